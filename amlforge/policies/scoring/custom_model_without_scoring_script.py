"""A deployment of a custom (non-MLflow, non-Triton) model without `code_configuration`.

## What it does
Reports a deployment whose model is known to be a `custom_model` (an inline model, or a model
file of the run it names; `custom_model` is the default type) and that has no
`code_configuration`. Only MLflow and Triton models can be deployed without a scoring script.

A custom container (an environment with `inference_config`) serves the model itself and needs no
scoring script; an environment registered in the workspace (`azureml:name:version`, not a file of
the run) may be one, so the rule stays silent then. Curated environments
(`azureml://registries/azureml/...`) never are.

## Why is this bad?
The platform generates a scoring script only for MLflow (pyfunc) and Triton models; for any
other model the deployment fails with MissingDriverProgram ("Could not find driver program in
the request").

## Example
```yaml
name: blue
endpoint_name: my-endpoint
model:
  path: ./model.pkl
instance_type: Standard_DS3_v2
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
model:
  path: ./model.pkl
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
environment: azureml:sklearn-env:3
instance_type: Standard_DS3_v2
instance_count: 3
```

## References
- [Troubleshooting online endpoints: MissingDriverProgram](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.deployment import OnlineDeploymentBase
from amlforge.specs.project import Loaded, Project


def _may_serve_itself(project: Project, dep: Loaded[OnlineDeploymentBase]) -> bool:
    """Whether the deployment's environment is, or may be, a custom container."""
    env = project.environment_of(dep)
    if env is not None:
        return env.spec.inference_config is not None
    ref = dep.spec.environment
    return isinstance(ref, str) and "registries/azureml/" not in ref


@rule("AML511", "custom-model-without-scoring-script", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if dep.spec.code_configuration is not None or _may_serve_itself(project, dep):
            continue
        model = project.model_of(dep)  # inline, or a model file of the run it names
        if model is None or (model.spec.type or "custom_model") != "custom_model":
            continue
        yield Violation(dep.at("model"),
                        "a custom_model needs a scoring script: only MLflow and Triton models deploy without "
                        "code_configuration (MissingDriverProgram)",
                        "add code_configuration (code folder and scoring_script) and an environment, or register "
                        "the model as mlflow_model")
