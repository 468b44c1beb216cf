"""A mapping key written twice; the later value silently wins.

## What it does
Reports every key that appears a second time in the same mapping, with the line of the
first one.

## Why is this bad?
YAML parsers, azure-ai-ml included, keep the last value without a word. A reviewer reading
the first `instance_count: 3` does not see the `instance_count: 1` further down.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
instance_count: 1
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```
"""

from collections.abc import Iterator

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML105", "duplicate-key", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for doc in project.documents:
        for dup in doc.source.duplicates:
            yield Violation(
                Location(doc.display, dup.line, dup.column),
                f"'{dup.path[-1]}' is given twice (first on line {dup.first_line}); this later value wins",
                "remove one of the two",
            )
