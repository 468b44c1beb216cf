"""``path:line:col: severity RULE message`` lines, hints, and a one-line summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def summary(report: LintReport) -> str:
    """``Found 2 errors, 1 warning in 2 files (1 suppressed, 3 in baseline).``: counted over the
    files the findings sit in; a clean run names the files checked and the rules run."""
    counts = report.counts()
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extra.append(f"{report.baselined} in baseline")
    tail = f" ({', '.join(extra)})" if extra else ""
    fixed = getattr(report, "fixed", 0)
    done = f"Fixed {_plural(fixed, 'finding')}.\n" if fixed else ""
    if not report.findings:
        files = _plural(report.files, "file")
        return f"{done}All checks passed: {files}, {report.rules_run} rules{tail}."
    parts = [f"{n} {sev}{'s' if n != 1 and sev != 'info' else ''}" for sev, n in counts.items() if n]
    where = _plural(len({f.location.file for f in report.findings}), "file")
    return f"{done}Found {', '.join(parts)} in {where}{tail}." + _fixable(report)


def _fixable(report: LintReport) -> str:
    """The ruff-style line on fixes: how many ``--fix`` would apply, how many need ``--unsafe-fixes``."""
    from amlforge.policies.fixing import fix_counts

    unsafe = getattr(report, "unsafe_fixes", False)
    fixable, hidden = fix_counts(report.findings, unsafe)
    if not fixable and not hidden:
        return ""
    flag = "--fix --unsafe-fixes" if unsafe else "--fix"
    line = f"\n[*] {fixable} fixable with {flag}" if fixable else "\nNo fixes available"
    if hidden:
        line += f" ({hidden} more with --unsafe-fixes)"
    return line + "."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def render(report: LintReport, *, color: bool = False) -> str:
    from amlforge.policies.fixing import wanted
    from amlforge.reporters._escape import escape_finding

    lines = []
    unsafe = getattr(report, "unsafe_fixes", False)
    for f in map(escape_finding, report.findings):
        sev = f.severity.value
        shown_sev = click.style(sev, fg=_COLORS[sev], bold=True) if color else sev
        rule = click.style(f.rule, bold=True) if color else f.rule
        mark = "[*] " if wanted(f, unsafe) else ""
        lines.append(f"{f.location}: {shown_sev} {rule} {mark}{f.message}")
        if f.hint:
            lines.append(f"  hint: {f.hint}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
