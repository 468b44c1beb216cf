"""A `{{PLACEHOLDER}}` value that no `--var` filled in.

## What it does
Reports `{{NAME}}` placeholders left in values after substitution with `--var NAME=VALUE`.

## Why is this bad?
The az CLI sends the placeholder text as the value: an endpoint called `{{ENDPOINT}}` fails
the name rules, an image `{{IMAGE}}` fails to pull.

## Example
```yaml
endpoint_name: "{{ENDPOINT_NAME}}"
```
Use instead:
```yaml
endpoint_name: my-endpoint   # or: amlforge lint --var ENDPOINT_NAME=my-endpoint
```
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Anchor, Project


@rule("AML108", "unresolved-placeholder", Severity.WARNING, prevents=("BadArgument",), sees_unknown=True)
def check(project: Project) -> Iterator[Violation]:
    for doc in project.documents:
        for ph in doc.source.placeholders:
            yield Violation(
                Anchor(doc, ph.path),
                f"placeholder {{{{{ph.name}}}}} is not filled in",
                f"pass --var {ph.name}=VALUE, or substitute it before deploying",
            )
