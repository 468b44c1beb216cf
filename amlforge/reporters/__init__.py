"""Reporters: findings to text for people and to machine formats for CI.

Each format is one module with a ``render(report) -> str`` function.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport

FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")


def render(report: LintReport, fmt: str, *, color: bool = False) -> str:
    """Render ``report`` in format ``fmt`` (one of :data:`FORMATS`), its user text escaped
    (:func:`~amlforge.reporters._escape.escape_text`)."""
    from amlforge.reporters._escape import escape_findings

    report = escape_findings(report)
    module = importlib.import_module(f"amlforge.reporters.{fmt}_report")
    if fmt == "text":
        return module.render(report, color=color)
    return module.render(report)


__all__ = ["FORMATS", "render"]
