"""SARIF 2.1.0 (OASIS): one run, the rule catalog as ``tool.driver.rules``, one result per finding.

Built from plain dicts: the ``sarif-om`` classes add nothing here (they still need
``jschema-to-python`` to serialise and carry no validation), and the output is checked
against the official 2.1.0 JSON schema in ``tests/reporters/test_sarif.py``.

Paths are relative URIs with ``uriBaseId: "%SRCROOT%"`` (the folder amlforge ran in), as
GitHub code scanning expects. ``partialFingerprints`` hash the rule, the file and the message
(not the line), so a finding keeps its identity when lines move.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport
    from amlforge.policies.registry import Finding, Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/amlforge/amlforge"
RULES_DOC = "https://github.com/amlforge/amlforge/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _section(doc: str, title: str) -> str:
    """The text of a ``## title`` section of a rule docstring."""
    lines = doc.strip().splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            inside = line[3:].strip() == title
            continue
        if inside:
            out.append(line)
    return "\n".join(out).strip()


def rule_descriptor(r: Rule) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` for one catalog rule."""
    summary = r.summary or r.name
    what = _section(r.doc, "What it does") or summary
    descriptor: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": what},
        "helpUri": f"{RULES_DOC}#{r.id.lower()}-{r.name}",
        "help": {"text": r.doc.strip() or summary, "markdown": r.doc.strip() or summary},
        "defaultConfiguration": {"level": _LEVELS[r.severity.value]},
        "properties": {
            "tags": [r.area, *r.prevents],
            "prevents": list(r.prevents),
            "area": r.area,
            "since": r.since,
        },
    }
    if r.options.get("pack"):  # a policy-pack rule: its own docs link, and which pack it is from
        descriptor["properties"]["pack"] = r.options["pack"]
        if r.options.get("docs"):
            descriptor["helpUri"] = r.options["docs"]
    return descriptor


def artifact_uri(file: str) -> tuple[str, str | None]:
    """The URI of a finding's file and its base id (None for an absolute ``file:`` URI)."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = Path(os.path.relpath(path))
        except ValueError:  # pragma: no cover - another drive on Windows
            return path.as_uri(), None
    text = path.as_posix()
    if text.startswith("../"):
        return Path(os.path.abspath(file)).as_uri(), None
    return quote(text, safe="/-_.~"), SRCROOT


def _fingerprint(f: Finding, uri: str, seen: dict[str, int]) -> str:
    base = hashlib.sha256(f"{f.rule}\0{uri}\0{f.message}".encode()).hexdigest()[:32]
    n = seen.get(base, 0)
    seen[base] = n + 1
    return f"{base}:{n + 1}"


def _result(f: Finding, index: int | None, seen: dict[str, int]) -> dict[str, Any]:
    uri, base = artifact_uri(f.location.file)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": artifact}
    # a notebook cell: viewers know only the line of the .ipynb file; the message names the cell
    if f.location.physical_line > 0:
        region: dict[str, Any] = {"startLine": f.location.physical_line}
        if f.location.column > 0 and not f.location.cell:
            region["startColumn"] = f.location.column
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": _LEVELS[f.severity.value],
        "message": {"text": f.location.cell_prefix + f.message + (f"\nhint: {f.hint}" if f.hint else "")},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"amlforge/v1": _fingerprint(f, uri, seen)},
        "properties": {"name": f.name, "severity": f.severity.value, "prevents": list(f.prevents),
                       "hint": f.hint},
    }
    if index is not None:
        result["ruleIndex"] = index
    return result


def to_sarif(report: LintReport) -> dict[str, Any]:
    """The SARIF log as a dict."""
    from amlforge import __version__
    from amlforge.policies.registry import load_catalog

    rules = list(getattr(report, "registry", None) or load_catalog())  # pack rules live in the run's registry
    index = {r.id: i for i, r in enumerate(rules)}
    seen: dict[str, int] = {}
    from amlforge.reporters._escape import escape_finding

    # escaped here too (idempotent), so that fingerprints are the same however this is called
    results = [_result(escape_finding(f), index.get(f.rule), seen) for f in report.findings]
    return {
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "amlforge",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(r) for r in rules],
            }},
            "invocations": [{"executionSuccessful": report.exit_code != 2}],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(report: LintReport) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


__all__ = ["SCHEMA_URI", "VERSION", "artifact_uri", "render", "rule_descriptor", "to_sarif"]
