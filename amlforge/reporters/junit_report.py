"""JUnit XML: one ``<testsuite>`` per file, one ``<testcase>`` per finding.

Findings at or above the run's fail level (``--fail-on``) are ``<failure>``s; lower ones are
passing test cases whose ``<system-out>`` carries the finding. A linted file without
findings gets one passing test case, so CI dashboards count it. ElementTree does the XML
escaping; characters that XML 1.0 cannot carry (control characters) are replaced.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from amlforge._regex import LazyPattern

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport
    from amlforge.policies.registry import Finding

_INVALID_XML = LazyPattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _case_name(f: Finding) -> str:
    return f"{f.rule} {f.name} ({f.location})"


def _details(f: Finding) -> str:
    lines = [f"{f.location}: {f.severity.value} {f.rule} {f.message}"]
    if f.hint:
        lines.append(f"hint: {f.hint}")
    if f.prevents:
        lines.append(f"prevents: {', '.join(f.prevents)}")
    return "\n".join(lines)


def to_element(report: LintReport) -> ET.Element:
    by_file: dict[str, list[Finding]] = {}
    for project in getattr(report, "projects", None) or ([report.project] if report.project is not None else []):
        for doc in project.documents:
            by_file.setdefault(doc.display, [])
    for f in report.findings:
        by_file.setdefault(f.location.file, []).append(f)
    fail_rank = report.fail_on.rank
    root = ET.Element("testsuites", name="amlforge lint")
    total = failures = 0
    for file in sorted(by_file):
        findings = by_file[file]
        suite = ET.SubElement(root, "testsuite", name=_clean(file))
        suite_failures = 0
        if not findings:
            ET.SubElement(suite, "testcase", classname=_clean(file), name="amlforge lint")
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=_clean(file), name=_clean(_case_name(f)))
            if f.severity.rank >= fail_rank or f.fatal:
                failure = ET.SubElement(case, "failure", message=_clean(f.message), type=f.severity.value)
                failure.text = _clean(_details(f))
                suite_failures += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _clean(_details(f))
        tests = max(len(findings), 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total += tests
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    return root


def render(report: LintReport) -> str:
    root = to_element(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["render", "to_element"]
