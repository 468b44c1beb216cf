"""An environment name that starts with the reserved prefix `AzureML`.

## What it does
Reports environments (standalone environment files and inline environments that have a
`name`) whose name starts with `AzureML`. The service's error names the prefix in this
casing; whether it also rejects other casings (`azureml-...`) is **unconfirmed**, so those are
reported as warnings.

## Why is this bad?
The prefix is reserved for Azure ML's curated environments. Registering one fails with
"Environment name can not start with the prefix AzureML" (BadArgument).

## Example
```yaml
name: AzureML-sklearn-scoring
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
conda_file: conda.yaml
```
Use instead:
```yaml
name: sklearn-scoring
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
conda_file: conda.yaml
```

## References
- issue MicrosoftDocs/azure-docs#65770 (the service error), how-to-manage-quotas.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML603", "reserved-environment-name-prefix", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for env in project.environments:
        name = env.spec.name
        if not name or not name.lower().startswith("azureml"):
            continue
        exact = name.startswith("AzureML")
        yield Violation(env.at("name"),
                        f"environment name '{name}' starts with the reserved prefix AzureML"
                        + ("" if exact else " (in another casing; unconfirmed whether the service rejects it)"),
                        "rename it without the AzureML prefix", severity=None if exact else Severity.WARNING)
