"""Review output: text for people, JSON and SARIF for CI (Markdown is in ``reporters/markdown_report.py``).

SARIF carries the risky changes and the new findings (``baselineState: "new"``); fixed findings
are counted in the run's properties but not uploaded as results, so that code scanning does not
open alerts for problems that are gone. Rules of policy packs get descriptors too, with the
pack's docs link as ``helpUri``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from amlforge.policies.registry import Finding
    from amlforge.review.core import ReviewReport

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(review: ReviewReport) -> str:
    """``2 risky changes, 1 new finding, 1 fixed, 4 unchanged (not shown); fails at warning.``"""
    parts = [_plural(len(review.risky), "risky change"), _plural(len(review.new), "new finding"),
             f"{len(review.fixed)} fixed", f"{len(review.unchanged)} unchanged (not shown)"]
    verdict = (f"fails at --fail-on {review.fail_on.value}" if review.exit_code
               else f"nothing new at --fail-on {review.fail_on.value}")
    return ", ".join(parts) + f"; {verdict}."


def _line(f: Finding, color: bool) -> list[str]:
    sev = f.severity.value
    shown = click.style(sev, fg=_COLORS[sev], bold=True) if color else sev
    rule = click.style(f.rule, bold=True) if color else f.rule
    out = [f"{f.location}: {shown} {rule} {f.message}"]
    if f.hint:
        out.append(f"  hint: {f.hint}")
    return out


def render_text(review: ReviewReport, *, color: bool = False) -> str:
    lines = [f"amlforge review: the work tree against {review.base_ref} ({review.base_commit[:7]})", ""]
    for title, findings in (("Risky changes", review.risky), ("New findings", review.new)):
        if findings:
            lines.append(f"{title}:")
            for f in sorted(findings, key=lambda x: x.sort_key()):
                lines.extend(_line(f, color))
            lines.append("")
    if review.fixed:
        lines.append("Fixed:")
        for f in sorted(review.fixed, key=lambda x: x.sort_key()):
            lines.append(f"{f.location}: {f.severity.value} {f.rule} {f.message}")
        lines.append("")
    lines.append(summary(review))
    return "\n".join(lines) + "\n"


def render_json(review: ReviewReport) -> str:
    return json.dumps(review.to_dict(), indent=2) + "\n"


def to_sarif(review: ReviewReport) -> dict[str, Any]:
    from amlforge.reporters.sarif_report import rule_descriptor
    from amlforge.reporters.sarif_report import to_sarif as lint_sarif

    doc = lint_sarif(review)  # type: ignore[arg-type] - a review has findings and exit_code
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    index = {r["id"]: i for i, r in enumerate(rules)}
    for result in run["results"]:
        rid = result["ruleId"]
        if rid not in index and review.registry is not None and review.registry.get(rid) is not None:
            index[rid] = len(rules)
            rules.append(rule_descriptor(review.registry.get(rid)))
        if rid in index:
            result["ruleIndex"] = index[rid]
        result["baselineState"] = "new"
    run["properties"] = {"base": {"ref": review.base_ref, "commit": review.base_commit},
                         "risky": len(review.risky), "new": len(review.new), "fixed": len(review.fixed),
                         "unchanged": len(review.unchanged)}
    return doc


def render_sarif(review: ReviewReport) -> str:
    return json.dumps(to_sarif(review), indent=2, ensure_ascii=False) + "\n"


def render_github(review: ReviewReport) -> str:
    """GitHub Actions annotations of the risky changes and new findings (the lint reporter's
    commands), then the review's summary line."""
    from amlforge.reporters.github_report import command

    return "\n".join([*(command(f) for f in review.findings), summary(review)]) + "\n"


def render_junit(review: ReviewReport) -> str:
    """JUnit XML of the risky changes and new findings (the lint reporter's layout: a suite per
    file, failures at --fail-on and above)."""
    import xml.etree.ElementTree as ET
    from types import SimpleNamespace

    from amlforge.reporters.junit_report import to_element

    root = to_element(SimpleNamespace(project=None, findings=review.findings, fail_on=review.fail_on))  # type: ignore[arg-type]
    root.set("name", "amlforge review")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render(review: ReviewReport, fmt: str, *, color: bool = False) -> str:
    """Render a review in ``fmt``: text, markdown, json, sarif, github or junit, its user text
    escaped (:func:`~amlforge.reporters._escape.escape_text`)."""
    from amlforge.reporters._escape import escape_findings

    review = escape_findings(review, "new", "fixed", "unchanged", "risky")
    if fmt == "text":
        return render_text(review, color=color)
    if fmt == "json":
        return render_json(review)
    if fmt == "sarif":
        return render_sarif(review)
    if fmt == "github":
        return render_github(review)
    if fmt == "junit":
        return render_junit(review)
    if fmt == "markdown":
        from amlforge.reporters.markdown_report import render_review

        return render_review(review)
    raise ValueError(f"unknown review format {fmt}")


__all__ = ["render", "render_github", "render_json", "render_junit", "render_sarif", "render_text", "summary",
           "to_sarif"]
