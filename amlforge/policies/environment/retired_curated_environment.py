"""A curated inference environment that Azure ML has removed or renamed.

## What it does
Reports a deployment whose `environment` refers to a curated environment
(`azureml://registries/azureml/environments/<name>/...` or `azureml:AzureML-<name>...`) that the
knowledge catalog lists as removed or renamed: the Python 3.8 environments (removed 2024-06-20),
the Ubuntu 20.04 inference environments (removed 2025-02-04), `minimal-ubuntu22.04-py3xx-*`
(renamed `minimal-py3xx-*` on 2025-01-28), the Python 3.7 / Ubuntu 18.04 framework environments.

## Why is this bad?
A removed environment has no new versions and its `@latest` label no longer resolves: the
deployment fails with an environment-not-found error, or builds on an unpatched image.

## Example
```yaml
environment: azureml://registries/azureml/environments/minimal-ubuntu22.04-py311-cpu-inference/labels/latest
```
Use instead:
```yaml
environment: azureml://registries/azureml/environments/minimal-py311-inference/labels/latest
```

## References
- Azure/azureml-assets `assets/inference/environments/` (PRs 3064, 3763, 3795)
"""

from collections.abc import Iterator

from amlforge.policies.environment._lifecycle import outdated_environments
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML421", "retired-curated-environment", Severity.ERROR, prevents=("ResourceNotFound", "ImageBuildFailure"))
def check(project: Project) -> Iterator[Violation]:
    for item in outdated_environments(project):
        hint = (f"refer to the curated environment '{item.replacement}'" if item.replacement
                else "pick a current curated environment (amlforge data)")
        yield Violation(item.at, item.describe("curated environment"), hint,
                        severity=Severity.WARNING if item.entry.status == "deprecated" else None)
