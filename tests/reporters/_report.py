"""A small synthetic lint report for the reporter tests."""

from __future__ import annotations

from amlforge.errors import Location
from amlforge.policies.engine import LintReport
from amlforge.policies.registry import Finding, Severity


def synthetic_report(fail_on: Severity = Severity.WARNING) -> LintReport:
    findings = [
        Finding("AML505", "import-not-in-environment", Severity.ERROR, Location("src/score.py", 6, 1),
                "'lightgbm' is imported, but <env> & \"conda\" does not install it", "add lightgbm==4.5.0",
                ("ResourceNotReady",)),
        Finding("AML503", "missing-entry-function", Severity.ERROR, Location("src/score.py", 1, 1),
                "score.py has no init() function at module level", "define init()", ("ResourceNotReady",)),
        Finding("AML503", "missing-entry-function", Severity.ERROR, Location("src/score.py", 1, 1),
                "score.py has no init() function at module level", "define init()", ("ResourceNotReady",)),
        Finding("AML507", "model-loaded-in-run", Severity.WARNING, Location("dir with space/a,b:c.yml", 3, 7),
                "100% of requests\r\nreload the model\x00", "", ("HTTP 408",)),
        Finding("AML109", "deploy-time-value", Severity.INFO, Location("blue.yml", 0, 0), "no name", "", ()),
    ]
    return LintReport(findings, None, files=3, fail_on=fail_on)
