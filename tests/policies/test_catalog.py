"""The catalog itself: IDs, names, docs, fixtures, generated docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from amlforge.policies.registry import BANNED_NAME_PREFIXES, ID_PATTERN, REGISTRY, RETIRED, load_catalog

HERE = Path(__file__).parent
SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "Use instead:")
RULES = list(load_catalog())


def test_catalog_is_large_and_ids_are_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.match(i) for i in ids)
    assert not set(ids) & set(RETIRED)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_metadata(rule) -> None:
    assert not rule.name.startswith(BANNED_NAME_PREFIXES)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    module_leaf = rule.module.rsplit(".", 1)[-1]
    assert module_leaf == rule.name.replace("-", "_"), "module and rule name must match"
    assert rule.module.split(".")[2] == rule.area, f"{rule.id} lives in the wrong area folder"
    for section in SECTIONS:
        assert section in rule.doc, f"{rule.id} docs lack '{section}'"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_pass_and_fail_fixtures(rule) -> None:
    folder = HERE / rule.area / rule.name.replace("-", "_")
    assert any((folder / "fail").glob("*")), f"{rule.id} has no fail fixture in {folder}"
    if not rule.fatal:
        assert any((folder / "pass").glob("*")), f"{rule.id} has no pass fixture in {folder}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_doc_examples_are_yaml(rule) -> None:
    import ast

    blocks = re.findall(r"```(yaml|python)\n(.*?)```", rule.doc, re.S)
    assert blocks, f"{rule.id} docs have no YAML (or, for Python sources, Python) example"
    # the "Use instead" example always parses; failing examples do too, except for input rules
    for language, block in blocks if rule.area != "input" else blocks[-1:]:
        yaml.safe_load(block) if language == "yaml" else ast.parse(block)


def test_registry_rejects_duplicates() -> None:
    from amlforge.policies.registry import Registry, RegistryError, Rule, Severity

    reg = Registry()
    reg.add(Rule("AML999", "some-thing", Severity.INFO, (), "0.1", "m", "doc"))
    with pytest.raises(RegistryError):
        reg.add(Rule("AML999", "other-thing", Severity.INFO, (), "0.1", "m", "doc"))
    with pytest.raises(RegistryError):
        reg.add(Rule("AML998", "avoid-things", Severity.INFO, (), "0.1", "m", "doc"))
    with pytest.raises(RegistryError):
        reg.add(Rule("X1", "x-thing", Severity.INFO, (), "0.1", "m", "doc"))
    assert REGISTRY.get("aml105").name == "duplicate-key"
