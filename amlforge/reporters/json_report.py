"""A JSON list of findings: rule, name, severity, path, line, column, message, hint, prevents."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport


def render(report: LintReport) -> str:
    return json.dumps([f.to_dict() for f in report.findings], indent=2) + "\n"
