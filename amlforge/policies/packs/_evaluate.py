"""Run pack rules against a project: select resources, resolve dotted fields, test conditions, yield violations.

Not a rule module (the catalog loader skips ``_`` modules). A pack rule becomes an ordinary
:class:`~amlforge.policies.registry.Rule` whose check is :func:`check_for`, so configuration,
suppressions, baselines and reporters treat it like any catalog rule.

Values: a field's value is what the file (or ``--set``) gives, normalised the way the spec
models read it (``auth_mode: AMLToken`` is ``aml_token``); when the file leaves it out, the
documented default where the spec model has one (``auth_mode`` -> ``key``,
``public_network_access`` -> ``enabled``, ``request_settings.request_timeout_ms`` -> 5000), else
the value is absent. ``required``/``forbidden`` look only at what the file spells out.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from msgspec import Struct

from amlforge.policies.packs._model import (
    NEGATIVE,
    AllOf,
    AnyOf,
    Condition,
    Exclude,
    FieldTest,
    Not,
    PackRule,
    Selector,
)
from amlforge.policies.registry import Violation
from amlforge.specs.project import Anchor, Loaded, Project

_MISSING = object()


class Resource(Struct, frozen=True):
    """One endpoint, deployment or environment as pack rules see it."""

    type: str
    loaded: Loaded[Any]
    kind: str | None
    name: str | None
    label: str
    tags: dict[str, str]
    endpoint: str | None

    @property
    def data(self) -> Any:
        """The YAML mapping of the resource (after --set overrides)."""
        node: Any = self.loaded.doc.data
        for part in self.loaded.prefix:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}


class Failure(Struct, frozen=True):
    """A field test that does not hold: where, the value found, and what was expected."""

    path: tuple[str | int, ...]
    present: bool
    value: Any
    op: str
    expected: Any


def resources(project: Project) -> list[Resource]:
    """Every endpoint, deployment and environment of the run (computed once per run)."""
    return project.memo(("packs", "resources"), lambda: _resources(project))


def _lower_tags(tags: dict[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (tags or {}).items()}


def _resources(project: Project) -> list[Resource]:
    out: list[Resource] = []
    endpoint_tags: dict[str, dict[str, str]] = {}
    for ep in project.endpoints:
        tags = _lower_tags(ep.spec.tags)
        if ep.spec.name:
            endpoint_tags[ep.spec.name.lower()] = tags
        out.append(Resource("endpoint", ep, getattr(ep.spec, "kind", None), ep.spec.name, ep.label, tags,
                            ep.spec.name))
    by_doc: dict[int, Resource] = {}
    for dep in project.deployments:
        inherited = endpoint_tags.get((dep.spec.endpoint_name or "").lower(), {})
        res = Resource("deployment", dep, getattr(dep.spec, "kind", None), dep.spec.name, dep.label,
                       {**inherited, **_lower_tags(dep.spec.tags)}, dep.spec.endpoint_name)
        by_doc[id(dep.doc)] = res
        out.append(res)
    for env in project.environments:
        owner = by_doc.get(id(env.doc)) if env.prefix else None
        tags = {**(owner.tags if owner else {}), **_lower_tags(env.spec.tags)}
        label = env.spec.name or (f"inline environment of deployment '{owner.label}'" if owner else env.label)
        out.append(Resource("environment", env, owner.kind if owner else None, env.spec.name, label, tags,
                            owner.endpoint if owner else None))
    return out


# --- selection --------------------------------------------------------------------------------------------


def _glob(value: str | None, patterns: tuple[str, ...]) -> bool:
    text = (value or "").casefold()
    return any(fnmatch.fnmatchcase(text, p.casefold()) for p in patterns)


def _tags_match(tags: dict[str, str], wanted: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    for key, values in wanted:
        actual = tags.get(key.lower())
        if actual is None or not _glob(actual, values):
            return False
    return True


def _excluded(res: Resource, ex: Exclude | None) -> bool:
    if ex is None:
        return False
    return bool((ex.kinds and res.kind in ex.kinds) or (ex.names and _glob(res.name, ex.names))
                or (ex.tags and any(_tags_match(res.tags, (t,)) for t in ex.tags)))


def selected(sel: Selector, res: Resource) -> bool:
    """Whether the selector picks the resource (profiles are checked by the engine)."""
    if res.type not in sel.resources:
        return False
    if sel.kinds and res.kind not in sel.kinds:
        return False
    if sel.names and not _glob(res.name, sel.names):
        return False
    if sel.tags and not _tags_match(res.tags, sel.tags):
        return False
    if _excluded(res, sel.exclude):
        return False
    return sel.where is None or holds(sel.where, res)


# --- values -----------------------------------------------------------------------------------------------


def _spec_child(node: Any, key: str | int) -> Any:
    """The child of a spec value: a model field (with its default), a mapping key or a list item."""
    from pydantic import BaseModel

    if isinstance(node, BaseModel):
        if not isinstance(key, str):
            return _MISSING
        for name, info in type(node).model_fields.items():
            if key in (name, info.alias):
                value = getattr(node, name)
                if value is None:
                    return _default_model(info.annotation)
                return value
        return _MISSING
    if isinstance(node, dict):
        if isinstance(key, str):
            for k, v in node.items():
                if str(k) == key:
                    return v
        return _MISSING
    if isinstance(node, list) and isinstance(key, int):
        return node[key] if 0 <= key < len(node) else _MISSING
    return _MISSING


def _default_model(annotation: Any) -> Any:
    """The default object of an omitted nested model (e.g. request_settings), when there is exactly one."""
    from pydantic import BaseModel

    from amlforge.policies.packs._loader import _expand

    models = [t for t in _expand([annotation]) if isinstance(t, type) and issubclass(t, BaseModel)]
    if len(models) != 1 or any(t is str for t in _expand([annotation])):
        return None
    try:
        return models[0]()
    except Exception:  # noqa: BLE001 - a model with required fields has no default
        return None


def _raw_child(node: Any, key: str | int) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        for k, v in node.items():
            if str(k) == key:
                return v
        return _MISSING
    if isinstance(node, list) and isinstance(key, int):
        return node[key] if 0 <= key < len(node) else _MISSING
    return _MISSING


def _concrete_paths(data: Any, segments: tuple[str, ...]) -> list[tuple[str | int, ...]]:
    """Expand ``*`` over the keys or items the file has, and turn list indexes into ints."""
    paths: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    for seg in segments:
        nxt: list[tuple[tuple[str | int, ...], Any]] = []
        for path, node in paths:
            if seg == "*":
                if isinstance(node, dict):
                    nxt.extend((path + (str(k),), v) for k, v in node.items())
                elif isinstance(node, list):
                    nxt.extend((path + (i,), v) for i, v in enumerate(node))
                continue
            key: str | int = int(seg) if seg.isdigit() and isinstance(node, list) else seg
            child = _raw_child(node, key) if node is not _MISSING else _MISSING
            nxt.append((path + (key,), child))
        paths = nxt
    return [p for p, _ in paths]


def resolve(res: Resource, path: tuple[str | int, ...]) -> tuple[bool, Any]:
    """Whether the file spells ``path`` out, and its value (normalised, or its default, or None)."""
    raw: Any = res.data
    for key in path:
        raw = _raw_child(raw, key) if raw is not _MISSING else _MISSING
    present = raw is not _MISSING
    node: Any = res.loaded.spec
    for key in path:
        node = _spec_child(node, key) if node is not _MISSING and node is not None else _MISSING
    if node is not _MISSING and node is not None and isinstance(node, (str, int, float, bool)):
        return present, node
    if present:
        return True, raw
    return False, None


# --- tests --------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _same(value: Any, expected: Any) -> bool:
    if value is None or expected is None:
        return value is None and expected is None
    if isinstance(expected, bool) or isinstance(value, bool):
        if isinstance(value, str):
            return value.strip().lower() == ("true" if expected else "false")
        if isinstance(expected, str):
            return expected.strip().lower() == ("true" if value else "false")
        return value is expected
    a, b = _number(value), _number(expected)
    if isinstance(value, (int, float)) or isinstance(expected, (int, float)):
        return a is not None and b is not None and a == b
    if isinstance(value, str) and isinstance(expected, str):
        return value.casefold() == expected.casefold()
    return False


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _holds(op: str, operand: Any, present: bool, value: Any) -> bool:
    if op == "required":
        return present
    if op == "forbidden":
        return not present
    if op in NEGATIVE:
        positive = {"not_equals": "equals", "not_in": "in", "not_matches": "matches"}[op]
        return value is None or not _holds(positive, operand, present, value)
    if value is None:
        return op == "equals" and operand is None
    if op == "equals":
        return _same(value, operand)
    if op == "in":
        return any(_same(value, x) for x in operand)
    if op == "matches":
        text = _as_text(value)
        return text is not None and operand.search(text) is not None
    number = _number(value)
    if number is None:
        return False
    return number >= operand if op == "min" else number <= operand


def _test(test: FieldTest, res: Resource) -> list[Failure]:
    failures = []
    for path in _concrete_paths(res.data, test.path):
        present, value = resolve(res, path)
        for op, operand in test.ops:
            if not _holds(op, operand, present, value):
                failures.append(Failure(path, present, value, op, operand))
                break
    return failures


def failures(cond: Condition, res: Resource) -> list[Failure]:
    """Why ``cond`` does not hold for ``res`` (empty when it holds)."""
    if isinstance(cond, FieldTest):
        return _test(cond, res)
    if isinstance(cond, AllOf):
        return [f for item in cond.items for f in failures(item, res)]
    if isinstance(cond, AnyOf):
        first: list[Failure] = []
        for i, item in enumerate(cond.items):
            found = failures(item, res)
            if not found:
                return []
            if i == 0:
                first = found[:1]
        return first
    if isinstance(cond, Not):
        if failures(cond.item, res):
            return []
        return [_negated(cond.item, res)]
    raise TypeError(cond)  # pragma: no cover


def _negated(cond: Condition, res: Resource) -> Failure:
    """The failure to report when a ``not`` condition's inner condition holds: its first field."""
    inner = cond
    while not isinstance(inner, FieldTest):
        inner = inner.item if isinstance(inner, Not) else inner.items[0]
    paths = _concrete_paths(res.data, inner.path)
    path = paths[0] if paths else ()
    present, value = resolve(res, path) if path else (False, None)
    op, operand = inner.ops[0]
    return Failure(path, present, value, "not " + op, operand)


def holds(cond: Condition, res: Resource) -> bool:
    """Whether ``cond`` holds for ``res``."""
    return not failures(cond, res)


# --- reporting ----------------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as it reads in a message."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


def _expected(op: str, operand: Any) -> str:
    if isinstance(operand, re.Pattern):
        return operand.pattern
    if op in ("required", "not forbidden"):
        return "set"
    if op in ("forbidden", "not required"):
        return "not set"
    if isinstance(operand, list):
        return ", ".join(show(x) for x in operand)
    return show(operand)


class _Fields(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:  # pragma: no cover - placeholders are checked at load time
        return "{" + key + "}"


def _anchor(res: Resource, failure: Failure) -> tuple[Anchor, bool]:
    """Where a failure points: the field, else its nearest spelled-out parent, else the resource's name."""
    path = failure.path
    anchor = res.loaded.at(*path)
    if failure.present:
        return anchor, failure.op == "forbidden"
    probe = path
    while probe and not res.loaded.at(*probe).spelled_out:
        probe = probe[:-1]
    if probe:
        return res.loaded.at(*probe), True
    if res.loaded.prefix:
        return res.loaded.at(), True
    name = res.loaded.at("name")
    return (name, False) if name.spelled_out else (res.loaded.at(), False)


def check_for(rule: PackRule) -> Callable[[Project], Iterator[Violation]]:
    """The check function of a pack rule."""

    def check(project: Project) -> Iterator[Violation]:
        for res in resources(project):
            if not selected(rule.select, res):
                continue
            for failure in failures(rule.condition, res):
                fields = _Fields(
                    value=show(failure.value), name=res.label, resource=res.type, kind=res.kind or "",
                    endpoint=res.endpoint or "", expected=_expected(failure.op, failure.expected),
                    field=".".join(str(p) for p in failure.path),
                )
                anchor, key = _anchor(res, failure)
                yield Violation(anchor, rule.message.format_map(fields),
                                rule.hint.format_map(fields) if rule.hint else "", key=key)

    check.__name__ = f"check_{rule.id}"
    check.__qualname__ = check.__name__
    return check


__all__ = ["Failure", "Resource", "check_for", "failures", "holds", "resolve", "resources", "selected", "show"]
