"""A model or environment name the service rejects.

## What it does
Checks the `name` of models and environments (standalone files and inline definitions) against
`^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$`: a letter or digit first, then letters, digits, dashes and
underscores, 255 characters at most. Dots are the most common mistake (`iris.model`).

## Why is this bad?
The service refuses the asset: "Resource name can only contain alphanumeric characters,
dashes, and underscores, with a limit of 255 characters" (BadArgument), and CLI v2 rejects
dots. The regex is the one of registry assets; workspace assets have no published regex, so
amlforge applies the stricter one.

## Example
```yaml
name: iris.classifier
version: 1
path: ./model
type: custom_model
```
Use instead:
```yaml
name: iris-classifier
version: 1
path: ./model
type: custom_model
```

## References
- issue MicrosoftDocs/azure-docs#83465 (the service error), bicep-types 2025-12-01 registry
  assets (the regex), how-to-manage-quotas.md
"""

from collections.abc import Iterator

from amlforge._regex import LazyPattern
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project

_ASSET = LazyPattern(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}\Z")


@rule("AML604", "invalid-asset-name", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for kind, items in (("model", project.models), ("environment", project.environments)):
        for loaded in items:
            name = loaded.spec.name
            if name is None or _ASSET.match(str(name)):
                continue
            name = str(name)
            if len(name) > 255:
                problem = f"is {len(name)} characters long; the limit is 255"
            elif not name[:1].isascii() or not name[:1].isalnum():
                problem = "must start with a letter or digit"
            else:
                bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_"))})
                problem = "contains " + ", ".join(repr(c) for c in bad) + "; only letters, digits, '-' and '_' are allowed"
            yield Violation(loaded.at("name"), f"{kind} name '{name}' {problem}",
                            "use letters, digits, dashes and underscores")
