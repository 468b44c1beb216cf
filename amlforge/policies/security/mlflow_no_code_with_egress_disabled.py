"""An MLflow no-code deployment with outbound public access disabled.

## What it does
Reports managed deployments with `egress_public_network_access: disabled` whose model is an
`mlflow_model` (inline, or a model file in the run that the deployment references) and that
leave out both `code_configuration` and `environment` (a no-code deployment).

## Why is this bad?
A no-code MLflow deployment installs the model's conda dependencies when the container starts,
which needs outbound internet access. The docs list no-code deployment together with the legacy
network isolation (`egress_public_network_access: disabled`) as unsupported: the deployment is
rejected (BadArgument).

## Example
```yaml
name: blue
endpoint_name: wine-mlflow
model:
  path: ./model
  type: mlflow_model
instance_type: Standard_F4s_v2
instance_count: 3
egress_public_network_access: disabled
```
Use instead:
```yaml
# isolate the workspace with a managed virtual network instead of the legacy flag
# (or package the model: az ml online-deployment create --with-package)
name: blue
endpoint_name: wine-mlflow
model:
  path: ./model
  type: mlflow_model
instance_type: Standard_F4s_v2
instance_count: 3
```

## References
- how-to-deploy-mlflow-models-online-endpoints.md and how-to-troubleshoot-online-endpoints.md
  ("BadArgument: MLflow model with private network"), how-to-troubleshoot-online-endpoints.md and how-to-deploy-mlflow-models-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import is_no_code, model_of
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML707", "mlflow-no-code-with-egress-disabled", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if getattr(dep.spec, "egress_public_network_access", "enabled") != "disabled" or not is_no_code(dep):
            continue
        model = model_of(project, dep)
        if model is None or model.spec.type != "mlflow_model":
            continue
        yield Violation(dep.at("egress_public_network_access"),
                        f"deployment '{dep.label}' is an MLflow no-code deployment with egress disabled, an "
                        "unsupported combination",
                        "use a workspace managed VNet instead of egress_public_network_access, or deploy with "
                        "--with-package, or add a scoring script and an environment")
