"""``amlforge review``: lint a change against a git base and report what it breaks.

The logic is in :mod:`amlforge.review.core`; the risky-change rules (AML8xx) are ordinary
catalog rules in :mod:`amlforge.policies.review`; text, JSON and SARIF output is in
:mod:`amlforge.review.render` (GitHub annotations and JUnit XML through the lint reporters) and Markdown (for pull-request comments) in
:mod:`amlforge.reporters.markdown_report`.
"""

from amlforge.review.core import ReviewReport, compare, review_paths

FORMATS = ("text", "markdown", "json", "sarif", "github", "junit")

__all__ = ["FORMATS", "ReviewReport", "compare", "review_paths"]
