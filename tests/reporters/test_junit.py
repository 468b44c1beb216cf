"""JUnit XML parses, escapes what it must, and its counts match the findings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from amlforge.policies.registry import Severity
from amlforge.reporters import render
from tests.conftest import ROOT, run_cli
from tests.reporters._report import synthetic_report

PROJECT = Path(__file__).parent / "project"


def test_synthetic_report_parses_and_counts() -> None:
    text = render(synthetic_report(Severity.WARNING), "junit")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.get("tests") == "5" and root.get("failures") == "4"  # the info finding does not fail
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"src/score.py", "dir with space/a,b:c.yml", "blue.yml"}
    score = suites["src/score.py"]
    assert score.get("tests") == "3" and score.get("failures") == "3"
    failure = score.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "'lightgbm' is imported, but <env> & \"conda\" does not install it"
    assert failure.get("type") == "error"
    odd = suites["dir with space/a,b:c.yml"].find("testcase/failure")
    assert odd is not None and "\x00" not in odd.get("message", "") and "\\x00" in odd.get("message", "")
    info = suites["blue.yml"].find("testcase")
    assert info is not None and info.find("failure") is None and "no name" in info.findtext("system-out", "")


def test_fail_on_error_turns_warnings_into_passing_cases() -> None:
    root = ET.fromstring(render(synthetic_report(Severity.ERROR), "junit").encode("utf-8"))
    assert root.get("failures") == "3"


def test_cli_junit_end_to_end() -> None:
    junit = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "junit")
    plain = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "json")
    assert junit.returncode == plain.returncode == 1, junit.stderr
    findings = json.loads(plain.stdout)
    root = ET.fromstring(junit.stdout.encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == sum(1 for f in findings if f["severity"] in ("error", "warning"))
    assert int(root.get("failures", "-1")) == len(failing)
    names = {s.get("name") for s in root.findall("testsuite")}
    assert "tests/reporters/project/deployment.yml" in names
    assert "tests/reporters/project/onlinescoring/score.py" in names
