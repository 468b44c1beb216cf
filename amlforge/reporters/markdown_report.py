"""Markdown for pull-request comments: a summary table, then one table row per finding, hints folded.

``render(report)`` serves ``amlforge lint --format markdown``; ``render_review(review)`` serves
``amlforge review --format markdown`` (risky changes, new findings, fixed findings). The first line
is an HTML comment (``<!-- amlforge-review -->``) that a CI step can search for to update its
previous comment instead of adding a new one. Text from findings is escaped for GitHub and Azure
DevOps Markdown: ``|`` would split a table cell, ``<`` start HTML, ``*``/``[``/`` ` `` format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amlforge._regex import LazyPattern

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport
    from amlforge.policies.registry import Finding
    from amlforge.review.core import ReviewReport

_ESCAPE = LazyPattern(r"([\\`*\[\]|<>])")
_SEVERITIES = ("error", "warning", "info")
#: Rows per table; GitHub rejects comments over 65,536 characters.
MAX_ROWS = 100


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    escaped = _ESCAPE.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), text)
    return escaped.replace("\r", "").replace("\n", "<br>")


def _where(f: Finding) -> str:
    loc = f.location
    text = f"{loc.file}:cell {loc.cell}:{loc.line}" if loc.cell else (f"{loc.file}:{loc.line}" if loc.line else loc.file)
    return "`" + text.replace("`", "'") + "`"


def _ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by place; at most :data:`MAX_ROWS`."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.sort_key()))[:MAX_ROWS]


def _table(findings: list[Finding]) -> list[str]:
    rows = ["| severity | rule | where | what |", "|---|---|---|---|"]
    for f in _ordered(findings):
        rows.append(f"| {f.severity.value} | `{f.rule}` {escape(f.name)} | {_where(f)} | {escape(f.message)} |")
    if len(findings) > MAX_ROWS:
        rows.append(f"| | | | ... and {len(findings) - MAX_ROWS} more: see the job log or the SARIF results |")
    return rows


def _hints(findings: list[Finding]) -> list[str]:
    hinted = [f for f in _ordered(findings) if f.hint]
    if not hinted:
        return []
    out = ["", "<details><summary>How to fix</summary>", ""]
    out += [f"- `{f.rule}` {_where(f)}: {escape(f.hint)}" for f in hinted]
    return out + ["", "</details>"]


def _counts(findings: list[Finding]) -> list[int]:
    return [sum(1 for f in findings if f.severity.value == s) for s in _SEVERITIES]


def _section(title: str, findings: list[Finding], *, hints: bool = True) -> list[str]:
    if not findings:
        return []
    out = ["", f"### {title} ({len(findings)})", ""] + _table(findings)
    return out + (_hints(findings) if hints else [])


def render(report: LintReport) -> str:
    """A lint report as Markdown."""
    counts = report.counts()
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    verdict = "fails" if report.exit_code else "passes"
    lines = ["<!-- amlforge-lint -->", f"## amlforge lint {verdict}", ""]
    if not report.findings:
        lines.append(f"All checks passed: {files}, {report.rules_run} rules.")
        return "\n".join(lines) + "\n"
    lines += [f"Fail level: `{report.fail_on.value}`; {files} linted"
              + (f", {report.suppressed} suppressed" if report.suppressed else "")
              + (f", {report.baselined} in baseline" if report.baselined else "") + ".", "",
              "| | " + " | ".join(f"{s}s" if s != "info" else s for s in _SEVERITIES) + " |",
              "|---|---:|---:|---:|",
              "| Findings | " + " | ".join(str(counts[s]) for s in _SEVERITIES) + " |"]
    lines += _section("Findings", report.findings)
    return "\n".join(lines) + "\n"


def render_review(review: ReviewReport) -> str:
    """A review as Markdown: verdict, summary table, risky changes, new findings, fixed."""
    verdict = "fails" if review.exit_code else "passes"
    lines = ["<!-- amlforge-review -->", f"## amlforge review {verdict}", "",
             (f"The work tree compared with `{escape(review.base_ref)}` (`{review.base_commit[:7]}`); "
              f"fail level `{review.fail_on.value}`."), "",
             "| | errors | warnings | info |", "|---|---:|---:|---:|"]
    for title, findings in (("Risky changes", review.risky), ("New findings", review.new), ("Fixed", review.fixed)):
        lines.append(f"| {title} | " + " | ".join(str(n) for n in _counts(findings)) + " |")
    lines += ["", f"Unchanged findings, not shown: {len(review.unchanged)}."]
    if not (review.risky or review.new or review.fixed):
        lines += ["", "Nothing new: no risky change and no new finding."]
    lines += _section("Risky changes", review.risky)
    lines += _section("New findings", review.new)
    lines += _section("Fixed", review.fixed, hints=False)
    return "\n".join(lines) + "\n"


__all__ = ["escape", "render", "render_review"]
