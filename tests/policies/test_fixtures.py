"""Every rule's pass and fail fixtures, found by one parametrized test.

Layout: ``tests/policies/<area>/<rule_name>/{pass,fail}/<case>`` where a case is a YAML file or a
folder (a small project; a ``.amlforge.toml`` in it sets the profile, quota, options). Each fail
case has ``<case>.expected.json``: the reviewed snapshot of that rule's findings, rebuilt with
``make snapshots`` (UPDATE_SNAPSHOTS=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.policies.registry import load_catalog

HERE = Path(__file__).parent
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def _cases() -> list[tuple[str, str, Path]]:
    out = []
    for rule_dir in sorted(p for p in HERE.glob("*/*") if p.is_dir() and (p / "pass").exists() | (p / "fail").exists()):
        for outcome in ("pass", "fail"):
            folder = rule_dir / outcome
            if not folder.is_dir():
                continue
            for case in sorted(folder.iterdir()):
                if case.name.endswith((".expected.json", ".md")) or case.name.startswith("."):
                    continue
                out.append((rule_dir.name.replace("_", "-"), outcome, case))
    return out


CASES = _cases()


def findings_for(rule_name: str, case: Path) -> list[dict]:
    rule = load_catalog().get(rule_name)
    assert rule is not None, f"fixture folder names unknown rule {rule_name}"
    root = case if case.is_dir() else case.parent
    report = lint_paths([case], root=root)  # all rules, as users run it; keep this rule's findings
    out = []
    for f in report.findings:
        if f.rule != rule.id:
            continue
        d = f.to_dict()
        d["path"] = os.path.relpath(os.path.abspath(d["path"]), case.parent).replace(os.sep, "/")
        out.append({k: d[k] for k in ("rule", "severity", "path", "line", "column", "message", "hint")})
    return out


@pytest.mark.parametrize(("rule_name", "outcome", "case"), CASES,
                         ids=[f"{r}/{o}/{c.name}" for r, o, c in CASES])
def test_fixture(rule_name: str, outcome: str, case: Path) -> None:
    found = findings_for(rule_name, case)
    if outcome == "pass":
        assert found == [], f"{case} should pass {rule_name}"
        return
    snapshot = case.parent / f"{case.name}.expected.json"
    if UPDATE:
        snapshot.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    assert found, f"{case} should fail {rule_name}"
    assert snapshot.exists(), f"missing snapshot {snapshot}; run make snapshots and review it"
    assert found == json.loads(snapshot.read_text(encoding="utf-8"))
