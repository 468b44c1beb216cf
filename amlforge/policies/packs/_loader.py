"""Read a policy pack: YAML with a source map, JSON Schema validation, then the checks a schema cannot express.

Every problem is a :class:`~amlforge.errors.UserInputError` at the file, line and column of the
offending node (exit code 2): a typo in a policy must never become a silent pass. The schema is
``policy-pack.schema.json`` next to this module; jsonschema's errors are translated into
messages about the pack ("unknown operator 'equal'", "'min' should be a number") rather than
about the schema.

Beyond the schema: duplicate YAML keys, IDs reserved for built-in packs, rule names in the
catalog's style, duplicate IDs and names, ``{placeholders}`` in messages, regular expressions
that do not compile, ``min`` above ``max``, and field paths that name no field of the selected
resources (``instanse_count``).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import string
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from amlforge.errors import Location, UserInputError
from amlforge.policies.packs._model import (
    BUILTIN_IDS,
    COMBINATORS,
    KINDS,
    OPERATORS,
    PLACEHOLDERS,
    AllOf,
    AnyOf,
    Condition,
    Exclude,
    FieldTest,
    Not,
    Pack,
    PackRule,
    Selector,
)
from amlforge.specs.source import SourceMap, YamlPath, parse_yaml, read_text

SCHEMA_PATH = Path(__file__).with_name("policy-pack.schema.json")
BUILTIN_DIR = Path(__file__).with_name("builtin")
BUILTIN_PREFIX = "builtin:"
#: Largest pack file read.
MAX_PACK_BYTES = 1024 * 1024

_RULE_KEYS = ("id", "name", "severity", "message", "hint", "description", "docs", "select", "assert")
_TOP_KEYS = ("$schema", "pack", "version", "description", "docs", "rules")
_SELECTOR_KEYS = ("resource", "kind", "name", "tags", "profile", "where", "exclude")
_EXCLUDE_KEYS = ("kind", "name", "tags")
_CONDITION_KEYS = (*COMBINATORS, "field", *OPERATORS)
_BANNED_PREFIXES = ("avoid-", "use-", "prefer-", "do-not-", "no-")
_EXPECTED_TYPE = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def schema() -> dict[str, Any]:
    """The published JSON Schema of policy packs."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def builtin_names() -> list[str]:
    """Names of the packs that ship with amlforge (``builtin:<name>``)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def resolve(ref: str, base_dir: Path | None = None) -> tuple[Path, str, bool]:
    """The file a pack reference names, how to show it, and whether it is built in.

    Raises:
        UserInputError: an unknown built-in pack.
    """
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX):].strip()
        path = BUILTIN_DIR / f"{name}.yaml"
        if not name or "/" in name or "\\" in name or not path.is_file():
            known = builtin_names()
            close = difflib.get_close_matches(name, known, n=1)
            raise UserInputError(f"unknown built-in policy pack '{ref}'", None,
                                 f"did you mean 'builtin:{close[0]}'?" if close else
                                 "built-in packs: " + ", ".join(f"builtin:{n}" for n in known))
        return path, ref, True
    path = Path(ref)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    from amlforge.specs.loader import display_path

    return path, display_path(path), False


def load_pack(ref: str, base_dir: Path | None = None) -> Pack:
    """Load and validate one pack (a YAML file, or ``builtin:<name>``).

    Packs are cached per process by path, size and modification time.

    Raises:
        UserInputError: unreadable file, malformed YAML, schema or semantic errors (located).
    """
    path, display, builtin = resolve(ref, base_dir)
    try:
        stat = path.stat()
        key: tuple[Any, ...] = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, display, builtin)
    except OSError:
        key = (str(path), -1, -1, display, builtin)
    return _load_cached(*key, ref=ref, path=path)


@functools.lru_cache(maxsize=64)
def _load_cached(real: str, size: int, mtime: int, display: str, builtin: bool, *, ref: str, path: Path) -> Pack:
    text = read_text(path, display, MAX_PACK_BYTES)
    data, smap = parse_yaml(text, display)
    if smap.duplicates:
        dup = smap.duplicates[0]
        raise UserInputError(f"'{dup.path[-1]}' is given twice (first on line {dup.first_line})",
                             Location(display, dup.line, dup.column),
                             "keep one; YAML silently keeps the last value, which would hide a rule")
    if data is None:
        raise UserInputError("the policy pack is empty", Location(display, 1, 1),
                             "start with 'pack: <name>' and a list of 'rules:' (see docs/policy-packs.md)")
    if not isinstance(data, dict):
        raise UserInputError("a policy pack is a mapping with 'pack' and 'rules'", smap.locate(()),
                             "start with 'pack: <name>' and a list of 'rules:' (see docs/policy-packs.md)")
    _check_schema(data, smap)
    return _Builder(data, smap, ref, display, builtin).pack()


# --- schema errors -> located messages ----------------------------------------------------------------


def _check_schema(data: dict[str, Any], smap: SourceMap) -> None:
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    at: dict[tuple[Any, ...], set[str]] = {}
    for e in errors:
        at.setdefault(tuple(e.absolute_path), set()).add(e.validator)

    def derived(e: Any) -> bool:
        """An error that only follows from another one at the same node (report the cause)."""
        here = at[tuple(e.absolute_path)]
        if e.validator != "type" and "type" in here:
            return True  # a string where a condition belongs: say that, not "no field"
        if e.validator in {"oneOf", "anyOf", "dependentRequired", "required", "minProperties"} and \
                "additionalProperties" in here:
            return True  # an unknown operator explains the missing one
        return e.validator == "oneOf" and "dependentRequired" in here

    kept = [e for e in errors if not derived(e)]
    located = sorted((_translate(e, data, smap) for e in kept or errors),
                     key=lambda t: (t[0].line, t[0].column))
    (where, message, hint), more = located[0], len(located) - 1
    if more:
        message += f" ({more} more problem{'s' if more > 1 else ''} in this file)"
    raise UserInputError(message, where, hint)


def _name(path: Sequence[Any]) -> str:
    """How to call the node at ``path`` in a message: its key, or 'item N of key'."""
    if not path:
        return "the pack"
    last = path[-1]
    if isinstance(last, int):
        parent = next((p for p in reversed(path[:-1]) if isinstance(p, str)), "list")
        return f"item {last + 1} of '{parent}'"
    return f"'{last}'"


def _context(path: Sequence[Any], data: dict[str, Any]) -> str:
    """' in rule AML901' when the path is inside a rule that has an ID."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules")
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rid = rules[path[1]].get("id")
            return f" in rule {rid}" if isinstance(rid, str) else f" in rule {path[1] + 1}"
    return ""


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, choices: Iterable[str], fallback: str) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else fallback


def _translate(error: Any, data: dict[str, Any], smap: SourceMap) -> tuple[Location, str, str]:
    path: YamlPath = tuple(error.absolute_path)
    kind = error.validator
    title = error.schema.get("title", "") if isinstance(error.schema, dict) else ""
    ctx = _context(path, data)
    instance = error.instance
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [k for k in instance if k not in allowed and not any(p.search(k) for p in patterns)
                 ] if isinstance(instance, dict) else []
        key = extra[0] if extra else "?"
        where = smap.locate(path + (key,), key=True)
        if title == "condition":
            ops = ", ".join(OPERATORS)
            return where, f"unknown operator '{key}'{ctx}", _did_you_mean(
                key, _CONDITION_KEYS, f"a condition takes 'field' with operators ({ops}), or one of all, any, not")
        if title == "selector":
            return where, f"unknown selector '{key}'{ctx}", _did_you_mean(
                key, _SELECTOR_KEYS, "select takes: " + ", ".join(_SELECTOR_KEYS))
        if title == "exclude":
            return where, f"unknown exclude criterion '{key}'{ctx}", _did_you_mean(
                key, _EXCLUDE_KEYS, "exclude takes: " + ", ".join(_EXCLUDE_KEYS))
        if title == "rule":
            return where, f"unknown field '{key}'{ctx}", _did_you_mean(
                key, _RULE_KEYS, "a rule takes: " + ", ".join(_RULE_KEYS))
        return where, f"unknown field '{key}' in the pack", _did_you_mean(
            key, _TOP_KEYS, "a pack takes: " + ", ".join(_TOP_KEYS))
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_EXPECTED_TYPE.get(n, n) for n in names)
        if title == "condition":
            wanted = "a mapping (a condition such as {field: instance_count, min: 3})"
        hint = f"write {wanted}"
        if "number" in names and isinstance(instance, str):
            hint = "write the number without quotes"
        return smap.locate(path), f"{_name(path)}{ctx} should be {wanted}, got {_show(instance)}", hint
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        return (smap.locate(path), f"{_name(path)}{ctx} is {_show(instance)}, expected one of {', '.join(choices)}",
                _did_you_mean(str(instance), choices, f"use one of: {', '.join(choices)}"))
    if kind == "const":
        return (smap.locate(path), f"{_name(path)}{ctx} only takes true, got {_show(instance)}",
                "drop the test to allow both; 'required: true' demands the field, 'forbidden: true' bans it")
    if kind == "pattern":
        last = path[-1] if path else ""
        if last == "id":
            return (smap.locate(path), f"rule ID {_show(instance)} is outside the user range AML900-AML999",
                    "policy-pack rules use IDs AML900-AML989 (AML0xx-AML8xx are amlforge's own catalog)")
        if last == "name":
            return (smap.locate(path), f"rule name {_show(instance)}{ctx} is not kebab-case",
                    "use lower-case words joined by dashes that name the flagged pattern, e.g. unapproved-instance-type")
        if last == "pack":
            return (smap.locate(path), f"pack name {_show(instance)} is not kebab-case",
                    "use lower-case words joined by dashes, e.g. contoso-platform")
        return smap.locate(path), f"{_name(path)}{ctx} does not match {error.validator_value}", "fix the value"
    if kind == "required":
        missing = [k for k in error.validator_value if not isinstance(instance, dict) or k not in instance]
        key = missing[0] if missing else "?"
        where = smap.locate(path + (key,), key=True) if path else Location(smap.file, 1, 1)
        what = {"rule": "rule", "selector": "select", "condition": "condition"}.get(title, "pack")
        example = {"select": "resource: deployment", "assert": "field: instance_count\n  min: 3",
                   "message": '"instance_count is {value}"', "pack": "my-org", "rules": "[...]"}.get(key, "...")
        return where, f"{what}{ctx} is missing '{key}'", f"add '{key}: {example}'"
    if kind in ("minItems", "minProperties", "minLength"):
        return smap.locate(path), f"{_name(path)}{ctx} is empty", "give at least one entry, or remove it"
    if kind == "uniqueItems":
        return smap.locate(path), f"{_name(path)}{ctx} lists a value twice", "list each value once"
    if kind == "oneOf" and title == "condition":
        given = [k for k in ("field", *COMBINATORS) if isinstance(instance, dict) and k in instance]
        if not given:
            return (smap.locate(path, key=True), f"condition{ctx} has no 'field' and no all/any/not",
                    "write {field: <dotted.path>, <operator>: <value>}, or combine conditions with all/any/not")
        return (smap.locate(path + (given[1],), key=True),
                f"condition{ctx} mixes {' and '.join(repr(g) for g in given)}",
                "give one of field/all/any/not per condition; wrap several in 'all: [...]'")
    if kind == "dependentRequired":
        op = next((k for k in error.validator_value if isinstance(instance, dict) and k in instance), "?")
        op = next((k for k in OPERATORS if isinstance(instance, dict) and k in instance), op)
        return (smap.locate(path + (op,), key=True), f"operator '{op}'{ctx} has no 'field' to test",
                "add 'field: <dotted.path>' next to it, e.g. field: instance_count")
    if kind == "anyOf" and list(error.schema_path)[-3:-1] == ["dependentSchemas", "field"]:
        fld = instance.get("field") if isinstance(instance, dict) else "?"
        return (smap.locate(path + ("field",)), f"field test on '{fld}'{ctx} has no operator",
                "add one of: " + ", ".join(OPERATORS))
    if kind == "anyOf":
        from jsonschema.exceptions import best_match

        inner = best_match(error.context) if error.context else None
        if inner is not None:
            return _translate(inner, data, smap)
    return smap.locate(path), f"{_name(path)}{ctx}: {error.message}", "see docs/policy-packs.md"


# --- semantic checks and the loaded model --------------------------------------------------------------


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(_text(v) for v in items)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Builder:
    """Turns schema-valid data into a :class:`Pack`, raising located errors for what the schema cannot check."""

    def __init__(self, data: dict[str, Any], smap: SourceMap, ref: str, display: str, builtin: bool) -> None:
        self.data = data
        self.smap = smap
        self.ref = ref
        self.display = display
        self.builtin = builtin

    def fail(self, path: YamlPath, message: str, hint: str, *, key: bool = False) -> UserInputError:
        return UserInputError(message, self.smap.locate(path, key=key), hint)

    def pack(self) -> Pack:
        rules = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for i, raw in enumerate(self.data["rules"]):
            rule = self.rule(i, raw)
            if rule.id in seen_ids:
                first = self.smap.locate(("rules", seen_ids[rule.id], "id"))
                raise self.fail(("rules", i, "id"), f"rule ID {rule.id} is defined twice in this pack "
                                f"(first on line {first.line})", "give each rule its own ID")
            if rule.name in seen_names:
                first = self.smap.locate(("rules", seen_names[rule.name], "name"))
                raise self.fail(("rules", i, "name"), f"rule name '{rule.name}' is used twice in this pack "
                                f"(first on line {first.line})", "give each rule its own name")
            seen_ids[rule.id] = i
            seen_names[rule.name] = i
            rules.append(rule)
        version = self.data.get("version")
        return Pack(self.data["pack"], self.ref, self.display, self.data.get("description", ""),
                    "" if version is None else str(version), self.builtin, tuple(rules))

    def rule(self, i: int, raw: dict[str, Any]) -> PackRule:
        base: YamlPath = ("rules", i)
        rid, name = raw["id"], raw["name"]
        if not self.builtin and int(rid[3:]) in BUILTIN_IDS:
            raise self.fail(base + ("id",), f"rule ID {rid} is reserved for amlforge's built-in packs "
                            f"(AML{BUILTIN_IDS.start}-AML{BUILTIN_IDS.stop - 1})",
                            f"pick an unused ID between AML900 and AML{BUILTIN_IDS.start - 1}")
        banned = next((p for p in _BANNED_PREFIXES if name.startswith(p)), None)
        if banned:
            raise self.fail(base + ("name",), f"rule name '{name}' starts with '{banned}'",
                            "name the flagged pattern, not the cure: 'public-network-access', not "
                            "'no-public-network-access'")
        for key in ("message", "hint"):
            if key in raw:
                self.placeholders(base + (key,), raw[key])
        select = self.selector(base + ("select",), raw["select"])
        condition = self.condition(base + ("assert",), raw["assert"], select)
        docs = raw.get("docs") or self.data.get("docs") or ""
        return PackRule(rid, name, raw["severity"], raw["message"], raw.get("hint", ""),
                        raw.get("description", ""), docs, select, condition, self.smap.locate(base), raw)

    def placeholders(self, path: YamlPath, text: str) -> None:
        try:
            fields = [f for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
            specs = [(spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
        except ValueError as e:
            raise self.fail(path, f"{_name(path)} is not a valid template: {e}",
                            "write literal braces as {{ and }}") from None
        for fld, (spec, conv) in zip(fields, specs):
            if fld not in PLACEHOLDERS or spec or conv:
                shown = "{" + fld + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
                raise self.fail(path, f"unknown placeholder {shown} in {_name(path)}",
                                "use " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                                + "; write literal braces as {{ and }}")

    def selector(self, path: YamlPath, raw: dict[str, Any]) -> Selector:
        resources = _tuple(raw["resource"])
        exclude = None
        if "exclude" in raw:
            ex = raw["exclude"]
            exclude = Exclude(_tuple(ex.get("kind")), _tuple(ex.get("name")), self.tags(ex.get("tags")))
        sel = Selector(resources, _tuple(raw.get("kind")), _tuple(raw.get("name")), self.tags(raw.get("tags")),
                       _tuple(raw.get("profile")), None, exclude)
        if "where" in raw:
            sel = Selector(sel.resources, sel.kinds, sel.names, sel.tags, sel.profiles,
                           self.condition(path + ("where",), raw["where"], sel), sel.exclude)
        return sel

    @staticmethod
    def tags(raw: dict[str, Any] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if not raw:
            return ()
        return tuple((str(k), _tuple(v)) for k, v in raw.items())

    def condition(self, path: YamlPath, raw: dict[str, Any], select: Selector) -> Condition:
        at = self.smap.locate(path)
        if "all" in raw:
            return AllOf(tuple(self.condition(path + ("all", i), c, select) for i, c in enumerate(raw["all"])), at)
        if "any" in raw:
            return AnyOf(tuple(self.condition(path + ("any", i), c, select) for i, c in enumerate(raw["any"])), at)
        if "not" in raw:
            return Not(self.condition(path + ("not",), raw["not"], select), at)
        field = raw["field"]
        segments = tuple(field.split("."))
        if any(not s.strip() or s != s.strip() for s in segments):
            raise self.fail(path + ("field",), f"field path '{field}' has an empty part",
                            "separate keys with single dots: request_settings.request_timeout_ms")
        self.known_field(path + ("field",), segments, select)
        ops: list[tuple[str, Any]] = []
        for op in OPERATORS:
            if op not in raw:
                continue
            operand = raw[op]
            if op in ("matches", "not_matches"):
                try:
                    operand = re.compile(operand)
                except re.error as e:
                    raise self.fail(path + (op,), f"invalid regular expression in '{op}': {e}",
                                    "write a Python regular expression; quote it in YAML ('...')") from None
            ops.append((op, operand))
        if "min" in raw and "max" in raw and raw["min"] > raw["max"]:
            raise self.fail(path + ("min",), f"min {raw['min']} is above max {raw['max']}: nothing can pass",
                            "swap them")
        if "required" in raw and "forbidden" in raw:
            raise self.fail(path + ("forbidden",), "a field cannot be both required and forbidden",
                            "keep one of them")
        return FieldTest(field, segments, tuple(ops), at)

    def known_field(self, path: YamlPath, segments: tuple[str, ...], select: Selector) -> None:
        """Reject a field path that no selected resource type has (a typo would otherwise always pass)."""
        classes = _spec_classes(select.resources, select.kinds)
        level: list[Any] = list(classes)
        for depth, seg in enumerate(segments):
            nxt: list[Any] = []
            keys: list[str] = []
            open_ended = False
            for t in _expand(level):
                if t is Any:
                    open_ended = True
                    continue
                if isinstance(t, type) and _is_model(t):
                    fields = _fields(t)
                    keys.extend(fields)
                    if seg == "*":
                        nxt.extend(f.annotation for f in t.model_fields.values())
                    elif seg in fields:
                        nxt.append(fields[seg].annotation)
                    continue
                origin = typing.get_origin(t)
                if origin is dict:
                    nxt.append(typing.get_args(t)[1] if typing.get_args(t) else Any)
                    open_ended = True
                elif origin is list and (seg == "*" or seg.isdigit()):
                    nxt.append(typing.get_args(t)[0] if typing.get_args(t) else Any)
            if open_ended:
                return  # mappings (tags, traffic, environment_variables) take any key below
            if not nxt:
                where = ".".join(segments[:depth]) or "the " + "/".join(select.resources)
                fallback = ("keys here: " + ", ".join(sorted(set(keys))[:14]) + (", ..." if len(set(keys)) > 14 else "")
                            if keys else f"'{'.'.join(segments[:depth])}' has no fields below it")
                raise self.fail(path, f"unknown field '{seg}' in {where} (field: {'.'.join(segments)})",
                                _did_you_mean(seg, set(keys), fallback))
            level = nxt


def _is_model(t: type) -> bool:
    from pydantic import BaseModel

    return issubclass(t, BaseModel)


def _fields(cls: Any) -> dict[str, Any]:
    """YAML key -> FieldInfo of a model (aliases such as $schema included)."""
    from pydantic import AliasChoices

    out = {}
    for name, f in cls.model_fields.items():
        out[f.alias or name] = f
        out[name] = f
        if isinstance(f.validation_alias, AliasChoices):
            for choice in f.validation_alias.choices:
                out[str(choice)] = f
    return out


def _expand(annotations: Iterable[Any]) -> list[Any]:
    """Members of annotations, looking through Optional, Union and Annotated."""
    out: list[Any] = []
    for a in annotations:
        origin = typing.get_origin(a)
        if origin is typing.Annotated:
            out.extend(_expand([typing.get_args(a)[0]]))
        elif origin in (typing.Union, types.UnionType):
            out.extend(_expand(typing.get_args(a)))
        else:
            out.append(a)
    return out


def _spec_classes(resources: tuple[str, ...], kinds: tuple[str, ...]) -> list[type]:
    from amlforge.specs import deployment, endpoint, environment

    kinds = kinds or KINDS
    table = {
        ("endpoint", "managed"): endpoint.ManagedOnlineEndpoint,
        ("endpoint", "kubernetes"): endpoint.KubernetesOnlineEndpoint,
        ("deployment", "managed"): deployment.ManagedOnlineDeployment,
        ("deployment", "kubernetes"): deployment.KubernetesOnlineDeployment,
    }
    out: list[type] = []
    for res in resources:
        if res == "environment":
            out.append(environment.EnvironmentSpec)
        else:
            out.extend(table[(res, k)] for k in kinds)
    return out


__all__ = ["BUILTIN_DIR", "BUILTIN_PREFIX", "SCHEMA_PATH", "builtin_names", "load_pack", "resolve", "schema"]
