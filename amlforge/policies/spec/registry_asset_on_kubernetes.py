"""A registry reference (`azureml://registries/...`) in a Kubernetes deployment.

## What it does
Reports model, environment and code references of the form `azureml://registries/...` in
deployments with `type: kubernetes`.

## Why is this bad?
azure-ai-ml refuses them ("Registry reference for models is not supported for
K8SDeployment"); Kubernetes deployments need assets registered in the workspace.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
type: kubernetes
model: azureml://registries/azureml/models/my-model/versions/1
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
type: kubernetes
model: azureml:my-model:1
```
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML111", "registry-asset-on-kubernetes", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if dep.spec.kind != "kubernetes":
            continue
        code = dep.spec.code_configuration.code if dep.spec.code_configuration else None
        for field, value in (("model", dep.spec.model), ("environment", dep.spec.environment),
                             ("code_configuration", code)):
            if isinstance(value, str) and value.startswith("azureml://registries/"):
                at = dep.at("code_configuration", "code") if field == "code_configuration" else dep.at(field)
                yield Violation(at, f"{field} refers to a registry asset, which Kubernetes deployments cannot use",
                                "register the asset in the workspace and refer to it as azureml:<name>:<version>")
