"""Generated documentation stays current."""

from __future__ import annotations

from amlforge.policies.docs import generated_files
from tests.conftest import ROOT


def test_generated_docs_are_current() -> None:
    for path, text in generated_files(ROOT).items():
        assert path.exists(), f"{path} is missing: run make docs"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run make docs and commit it"


def test_every_failure_mode_is_predicted_or_explained() -> None:
    from amlforge.policies.failure_modes import FAILURE_MODES
    from amlforge.policies.registry import load_catalog

    registry = list(load_catalog())
    for mode in FAILURE_MODES:
        predicted = [r.id for r in registry if mode.code in r.prevents]
        assert predicted or mode.static, f"{mode.code}: no rule predicts it and no reason is given"


def test_readme_rule_count_matches_the_catalog() -> None:
    """README, `amlforge rules` and lint's summary give one rule count (issue 14)."""
    import re

    from amlforge.policies.registry import load_catalog

    rules = list(load_catalog())
    review = sum(1 for r in rules if r.area == "review")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"The catalog has (\d+) rules: (\d+) that `amlforge lint` runs", text)
    assert m, "README no longer states the rule count"
    assert (int(m.group(1)), int(m.group(2))) == (len(rules), len(rules) - review)
