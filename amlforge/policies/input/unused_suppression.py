"""An inline `# amlforge: ignore[...]` comment suppresses nothing.

## What it does
Reports suppression comments whose rule did not fire on the line they cover, and comments
that name rule IDs amlforge does not know.

## Why is this bad?
Stale suppressions hide the next real problem on that line and mislead reviewers.

## Example
```yaml
instance_count: 3  # amlforge: ignore[AML206]
```
Use instead:
```yaml
instance_count: 3
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML009", "unused-suppression", Severity.WARNING)
