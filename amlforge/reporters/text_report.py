"""``path:line:col: severity RULE message`` lines, hints, and a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def summary(report: LintReport) -> str:
    counts = report.counts()
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    if not report.findings:
        return f"All checks passed: {files}, {report.rules_run} rules."
    parts = [f"{n} {sev}{'s' if n != 1 and sev != 'info' else ''}" for sev, n in counts.items() if n]
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extra.append(f"{report.baselined} in baseline")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"Found {', '.join(parts)} in {files}{tail}."


def render(report: LintReport, *, color: bool = False) -> str:
    lines = []
    for f in report.findings:
        sev = f.severity.value
        shown_sev = click.style(sev, fg=_COLORS[sev], bold=True) if color else sev
        rule = click.style(f.rule, bold=True) if color else f.rule
        lines.append(f"{f.location}: {shown_sev} {rule} {f.message}")
        if f.hint:
            lines.append(f"  hint: {f.hint}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
