"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding.

``::error file=blue.yml,line=12,col=25,title=AML301 traffic-not-100::traffic sums to 90...``

GitHub's escaping (``actions/toolkit`` ``core/src/command.ts``): in the message ``%``, ``\\r``
and ``\\n`` become ``%25``, ``%0D`` and ``%0A``; in property values ``:`` and ``,`` also
become ``%3A`` and ``%2C``. A summary line (plain log output) ends the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport
    from amlforge.policies.registry import Finding

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    props = [f"file={escape_property(f.location.file.replace(chr(92), '/'))}"]
    # a notebook cell: GitHub knows only the line of the .ipynb file; the message names the cell
    if f.location.physical_line:
        props.append(f"line={f.location.physical_line}")
        if f.location.column and not f.location.cell:
            props.append(f"col={f.location.column}")
    props.append(f"title={escape_property(f'{f.rule} {f.name}')}")
    message = f.location.cell_prefix + f.message + (f"\nhint: {f.hint}" if f.hint else "")
    return f"::{_COMMANDS[f.severity.value]} {','.join(props)}::{escape_data(message)}"


def render(report: LintReport) -> str:
    from amlforge.reporters.text_report import summary

    lines = [command(f) for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


__all__ = ["command", "escape_data", "escape_property", "render"]
