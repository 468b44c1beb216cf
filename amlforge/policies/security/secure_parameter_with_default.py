"""A secure template parameter with a default value.

## What it does
Reports ARM `securestring`/`secureobject` parameters, Bicep `@secure()` parameters and
Terraform `sensitive` variables that have a default value, in templates that declare online
endpoint resources.

## Why is this bad?
The default is a secret written into the template, in source control and in every copy of
it; ARM also shows defaults in the deployment history. arm-ttk fails such templates
("Secure String Parameters Cannot Have Default").

## Example
```yaml
{"parameters": {"apiKey": {"type": "securestring", "defaultValue": "abc123"}}}
```
Use instead:
```yaml
{"parameters": {"apiKey": {"type": "securestring"}}}
```
(and pass the value at deployment time, from Key Vault; in Bicep, `@secure() param apiKey string`
without `= '...'`; in Terraform, a `sensitive` variable without `default`)
"""

from collections.abc import Iterator

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML711", "secure-parameter-with-default", Severity.ERROR)
def check(project: Project) -> Iterator[Violation]:
    for doc in project.documents:
        for line, col, name in doc.facts.get("secure_defaults", ()):
            yield Violation(Location(doc.display, line, col),
                            f"secure parameter '{name}' has a default value: a secret in the template",
                            "remove the default and pass the value at deployment time (e.g. a Key Vault reference)")
