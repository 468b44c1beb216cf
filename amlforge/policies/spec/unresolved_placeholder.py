"""A template placeholder that no `--var` filled in.

## What it does
Reports placeholders left in values after substitution with `--var NAME=VALUE`, once each, at
the placeholder's own line and column. Recognised conventions: `{{NAME}}` (also inside a value,
unquoted: `{{ACR}}.azurecr.io/img:1`), `${{ NAME }}`, `<NAME>` and `<my-endpoint-name>`,
`${NAME}`, `$(NAME)`, and words ending in `_place_holder` or `_placeholder`
(`user_identity_ARM_id_place_holder`). `--var NAME=VALUE` fills every form of `NAME` in the text
before it is parsed, as the repository's own scripts would.

A value holding an unfilled placeholder is unknown to every other rule: no name, path, ARM ID or
SKU finding is reported on it.

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

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.placeholders import hint
from amlforge.specs.project import Anchor, Project


@rule("AML108", "unresolved-placeholder", Severity.WARNING, prevents=("BadArgument",), sees_unknown=True)
def check(project: Project) -> Iterator[Violation]:
    for doc in project.documents:
        if doc.kind == "project_spec":
            continue  # amlforge.yaml: reported through the YAML it renders, at the spec's lines
        seen = set()
        for ph in doc.source.placeholders:
            at = Location(doc.source.file, ph.line, ph.column) if ph.line else Anchor(doc, ph.path)
            if (ph.line, ph.column, ph.text) in seen:
                continue
            seen.add((ph.line, ph.column, ph.text))
            yield Violation(at, f"placeholder {ph.text or '{{' + ph.name + '}}'} is not filled in", hint(ph.name))
