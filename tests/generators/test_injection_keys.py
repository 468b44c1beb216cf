"""Injection, keys and values alike: every payload placed in every free-text field (tag keys, tag
values, environment variable values, descriptions of every resource) comes back byte for byte
from every output, re-parsed by a real parser:

* az-ml YAML: ``yaml.safe_load``;
* ARM: ``json.loads``, then ARM's own literal rule applied to keys and values (a string that
  starts with ``[`` and ends with ``]`` is an expression unless it starts with ``[[``, which
  stands for the text without its first ``[``). A payload that would be *evaluated* is an escape;
* Bicep: pycep-parser, then the Bicep string escapes undone (``tests/generators/semantics.py``).

A payload the spec rejects (a line break in a tag value, ``/`` in a tag name) is reported with a
located error instead; those are counted apart and are not escapes. The counts are printed
(``pytest -s``) for the issue's "payloads x fields tried, escapes" figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import render_files
from amlforge.specs.project_spec import SpecError, load_spec
from tests.generators.test_injection import NASTY, _tree, nasty_spec

#: Payloads aimed at each output's expression or escape syntax, on top of the shared NASTY list.
PAYLOADS = list(dict.fromkeys([
    *NASTY,
    # ARM expressions
    "[concat('PWN','b')]", "[reference(subscription().id,'2020-01-01')]", "[[x]", "[[[x]]", "[x", "x]", "[]",
    "[[", "[", "]", " [x]", "[x] ", "[parameters('workspaceName')]", "[listKeys('x','2020-01-01').key1]",
    "[environment().name]", "[deployment().properties.templateLink.uri]",
    # Bicep interpolation and escapes
    "${subscription().id}", "'${x}'", "\\${x}", "\\u{24}", "${", "\\'", "'''",
    # YAML
    "!!python/object/apply:os.system ['id']", "&a x", "*a", "<<", "---", "...", "%YAML 1.2", "|", ">-", "? ",
    "key: value", "true", "~", "0o17", ".inf", "-.nan", "1e3",
    # JSON / shell / Dockerfile
    '"}, "x": {"', "\\u0000", "$HOME", "\\$HOME", "$(id)", "\\", "\u202e\u2066bidi\u2069", "a\u00a0b",
]))
#: The spec's own limits: tag names are 1-512 characters without < > % & \ ? / or controls.
_SENTINEL = "zz-injection-probe"


def _containers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resources whose tags and description take payloads: name -> their spec mapping."""
    ep = spec["endpoints"]["nasty-ep"]
    return {"endpoint": ep, "deployment-blue": ep["deployments"]["blue"], "deployment-green": ep["deployments"]["green"],
            "environment": spec["environments"]["image-env"], "model": spec["models"]["m"],
            "code": spec["code"]["c"]}


def _accepted(spec: dict[str, Any], tmp: Path, container: str, field: str, payload: str) -> bool:
    """Whether the spec accepts ``payload`` alone in this field (else it must be rejected, located)."""
    trial = nasty_spec()
    target = _containers(trial)[container]
    if field == "tag-key":
        target["tags"] = {payload: "v"}
    elif field == "tag-value":
        target["tags"] = {"k": payload}
    elif field == "env-value":
        target["environment_variables"] = {"WORKER_COUNT": "1", "X": payload}
    else:
        target["description"] = payload
    path = _tree(tmp, trial)
    try:
        load_spec(path)
        return True
    except SpecError as e:
        first = e.problems[0]
        assert first.location.line >= 1 and first.hint, first
        return False


def _arm_literal(text: str) -> tuple[str, bool]:
    """What ARM makes of a JSON string: (text, whether it is an expression ARM evaluates)."""
    if text.startswith("[[") and text.endswith("]"):
        return text[1:], False
    if text.startswith("[") and text.endswith("]"):
        return text, True
    return text, False


def _dicts(value: Any) -> list[dict]:
    out = []
    if isinstance(value, dict):
        out.append(value)
        for v in value.values():
            out.extend(_dicts(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_dicts(v))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _arm_decoded(value: Any, evaluated: list[str]) -> Any:
    """The ARM JSON with every literal key and value decoded; expressions are collected."""
    if isinstance(value, str):
        text, expression = _arm_literal(value)
        if expression:
            evaluated.append(text)
        return text
    if isinstance(value, dict):
        return {_arm_decoded(k, evaluated): _arm_decoded(v, evaluated) for k, v in value.items()}
    if isinstance(value, list):
        return [_arm_decoded(v, evaluated) for v in value]
    return value


def test_every_payload_in_every_field_comes_back_byte_for_byte(tmp_path: Path) -> None:
    fields = ("tag-key", "tag-value", "env-value", "description")
    containers = list(_containers(nasty_spec()))
    # which (payload, field) pairs the spec accepts: checked on one container per field kind
    accepted: dict[tuple[str, str], bool] = {}
    for field in fields:
        for i, payload in enumerate(PAYLOADS):
            container = "deployment-blue" if field == "env-value" else "model"
            accepted[(payload, field)] = _accepted(nasty_spec(), tmp_path / f"a-{field}-{i}", container, field, payload)
    tag_keys = [p for p in PAYLOADS if accepted[(p, "tag-key")]]
    tag_values = [p for p in PAYLOADS if accepted[(p, "tag-value")]]
    env_values = [p for p in PAYLOADS if accepted[(p, "env-value")]]
    descriptions = [p for p in PAYLOADS if accepted[(p, "description")]]
    assert len(tag_keys) > 60 and len(tag_values) > 60 and len(descriptions) > 60, (len(tag_keys), len(tag_values))

    base = _tree(tmp_path / "base", nasty_spec())
    own: list[str] = []
    _arm_decoded(json.loads(render_files(read_inputs(load_spec(base), base.parent / "generated"))["arm/azuredeploy.json"]),
                 own)
    own_expressions = set(own)
    tried = 0
    escapes: list[str] = []
    rounds = max(-(-len(tag_keys) // 40), -(-len(descriptions) // len(containers)))
    for r in range(rounds):
        spec = nasty_spec()
        expected_tags: dict[str, dict[str, str]] = {}
        expected_desc: dict[str, str] = {}
        keys = tag_keys[r * 40:(r + 1) * 40]
        values = tag_values[r * 40:(r + 1) * 40]
        for c, (name, target) in enumerate(_containers(spec).items()):
            d = descriptions[(r * len(containers) + c) % len(descriptions)]
            target["description"] = d
            expected_desc[name] = d
            if name == "code":  # code assets have no tags
                continue
            tags = {k: values[(i + c) % len(values)] if values else "v" for i, k in enumerate(keys)}
            tags.update({f"{name}-v{i}": v for i, v in enumerate(values)})
            tags[_SENTINEL] = name
            target["tags"] = tags
            expected_tags[name] = tags
        env_expected = {"WORKER_COUNT": "1", **{f"P_{i}": v for i, v in enumerate(env_values)}}
        for name in ("deployment-blue", "deployment-green"):
            _containers(spec)[name]["environment_variables"] = env_expected
        root = tmp_path / f"r{r}"
        path = _tree(root, spec)
        loaded = load_spec(path)
        files = render_files(read_inputs(loaded, root / "generated"))
        outputs: dict[str, list[Any]] = {"yaml": [], "arm": [], "bicep": []}
        for rel, text in files.items():
            if rel.startswith("azureml/"):
                outputs["yaml"].append(yaml.safe_load(text))
        evaluated: list[str] = []
        outputs["arm"].append(_arm_decoded(json.loads(files["arm/azuredeploy.json"]), evaluated))
        # ARM evaluates the generator's own expressions only (those of the same spec without payloads)
        for expression in sorted(set(evaluated) - own_expressions):
            escapes.append(f"ARM evaluates {expression!r}")
        bicep_dir = root / "generated" / "bicep"
        bicep_dir.mkdir(parents=True)
        for rel, text in files.items():
            if rel.startswith("bicep/"):
                (root / "generated" / rel).write_text(text, encoding="utf-8")
        from tests.generators.semantics import evaluate_bicep

        outputs["bicep"].append(evaluate_bicep(bicep_dir / "main.bicep"))

        for kind, docs in outputs.items():
            found = {d[_SENTINEL]: d for doc in docs for d in _dicts(doc) if _SENTINEL in d}
            for name, tags in expected_tags.items():
                got = found.get(name)
                if got != tags:
                    wrong = sorted(set(tags.items()) ^ set((got or {}).items()))[:3]
                    escapes.append(f"{kind} tags of {name}: {wrong!r}")
            strings = set(s for doc in docs for s in _strings(doc))
            for name, d in expected_desc.items():
                if d and d not in strings:
                    escapes.append(f"{kind} description of {name}: {d!r} not found")
            envs = [d for doc in docs for d in _dicts(doc) if "P_0" in d]
            if env_values and (not envs or any(e != env_expected for e in envs)):
                escapes.append(f"{kind} environment variables differ")
            tried += (len(keys) + len(values)) * len(expected_tags) + len(env_values) * 2 + len(containers)
    pairs = len(PAYLOADS) * (2 * (len(containers) - 1) + 2 + len(containers))
    rejected = sum(1 for ok in accepted.values() if not ok)
    print(f"\ninjection: {len(PAYLOADS)} payloads x {pairs // len(PAYLOADS)} fields "
          f"({pairs} payload x field pairs); {rejected} payload/field pairs rejected by the spec with a located error; "
          f"{tried} key/value placements re-parsed in 3 outputs; escapes: {len(escapes)}")
    assert escapes == []


@pytest.mark.parametrize("key", ["[concat('PWN','b')]", "[reference(subscription().id,'2020-01-01')]", "[[x]",
                                 "[bracketed]"])
def test_arm_keys_are_escaped_like_values(key: str) -> None:
    from amlforge.generators._render import arm_str

    assert json.loads(arm_str(key)) == "[" + key
