"""The review rules' fixtures: ``tests/policies/review/<rule>/{pass,fail}/<case>.md``.

Each case is a Markdown file with a ``## base`` tree, the ``## head`` changes and, for failing
cases, the ``## expected`` findings of that rule (a reviewed snapshot; ``UPDATE_SNAPSHOTS=1``
rewrites it). The runner commits the base in a real git repository, applies the changes to the
work tree and runs the review as ``amlforge review --base main`` does. The lint fixture harness
(tests/policies/test_fixtures.py) skips ``.md`` files, as review rules find nothing in a lint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from amlforge.policies.registry import load_catalog
from amlforge.review import review_paths
from tests.conftest import ROOT
from tests.review._repo import Repo, parse_case

FIXTURES = ROOT / "tests" / "policies" / "review"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
CASES = sorted(FIXTURES.glob("*/*/*.md"))


def run_case(case: Path, tmp_path: Path) -> list[dict]:
    spec = parse_case(case.read_text(encoding="utf-8"))
    repo = Repo(tmp_path / "repo")
    for rel, text in spec["base"].items():
        repo.write(rel, text)
    repo.commit("base")
    for rel, text in spec["head"].items():
        if text is None:
            repo.remove(rel)
        else:
            repo.write(rel, text)
    rule = load_catalog().get(case.parent.parent.name.replace("_", "-"))
    review = review_paths([repo.path], base="main")
    out = []
    for f in review.findings:
        if f.rule != rule.id:
            continue
        d = f.to_dict()
        d["path"] = os.path.relpath(os.path.abspath(d["path"]), repo.path).replace(os.sep, "/")
        out.append({k: d[k] for k in ("rule", "severity", "path", "line", "column", "message", "hint")})
    return out


def test_every_review_rule_has_fixtures() -> None:
    for r in load_catalog():
        if r.area == "review":
            folder = FIXTURES / r.name.replace("-", "_")
            assert list((folder / "fail").glob("*.md")), f"{r.id} has no failing review fixture"
            assert list((folder / "pass").glob("*.md")), f"{r.id} has no passing review fixture"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.parent.name}/{c.parent.name}/{c.stem}" for c in CASES])
def test_review_fixture(case: Path, tmp_path: Path) -> None:
    found = run_case(case, tmp_path)
    if case.parent.name == "pass":
        assert found == [], f"{case} should not trigger its rule"
        return
    assert found, f"{case} should trigger its rule"
    text = case.read_text(encoding="utf-8")
    if UPDATE:
        head, _, _ = text.partition("## expected")
        case.write_text(head + "## expected\n\n```json\n" + json.dumps(found, indent=2) + "\n```\n", encoding="utf-8")
        return
    expected = parse_case(text).get("expected")
    assert expected is not None, f"{case} has no '## expected' block; run UPDATE_SNAPSHOTS=1 and review it"
    assert found == json.loads(expected)
