"""Markdown output (pull-request comments): escaping, tables, truncation."""

from __future__ import annotations

from amlforge.errors import Location
from amlforge.policies.engine import LintReport
from amlforge.policies.registry import Finding, Severity
from amlforge.reporters import render
from amlforge.reporters.markdown_report import MAX_ROWS, escape
from tests.reporters._report import synthetic_report


def test_escape_keeps_table_cells_intact() -> None:
    assert escape("a | b <script> *x* [l](u) `c`\nd") == "a \\| b &lt;script&gt; \\*x\\* \\[l\\](u) \\`c\\`<br>d"


def test_lint_markdown() -> None:
    text = render(synthetic_report(), "markdown")
    assert text.startswith("<!-- amlforge-lint -->\n## amlforge lint fails\n")
    assert "| Findings | 3 | 1 | 1 |" in text
    assert "'lightgbm' is imported, but &lt;env&gt; & \"conda\" does not install it" in text
    # escaped control characters, their backslashes escaped again for Markdown (shown as \r\n)
    assert "100% of requests\\\\r\\\\nreload the model" in text
    assert "<details><summary>How to fix</summary>" in text


def test_long_reports_are_cut() -> None:
    findings = [Finding("AML301", "traffic-sum-not-100", Severity.ERROR, Location(f"ep{i:03}.yml", 1, 1), "m", "h")
                for i in range(MAX_ROWS + 20)]
    text = render(LintReport(findings, None, files=120, fail_on=Severity.WARNING), "markdown")
    assert text.count("| error | `AML301`") == MAX_ROWS
    assert "... and 20 more" in text
