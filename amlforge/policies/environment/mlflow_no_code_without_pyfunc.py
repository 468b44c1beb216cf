"""An MLflow no-code deployment of a model without the `python_function` flavor.

## What it does
Finds deployments that leave out both `code_configuration` and `environment` (a no-code
deployment) for a local `mlflow_model` folder, reads its `MLmodel`, and reports the deployment
when the flavors do not include `python_function` (pyfunc).

## Why is this bad?
Azure ML generates the scoring script and the environment only for models with the
`python_function` flavor. For any other flavor the deployment cannot be served without your
own scoring script and environment, and it fails (the docs do not name the error code; expect
BadArgument, or ResourceNotReady when the container cannot load the model).

## Example
```yaml
name: blue
endpoint_name: my-endpoint
model:
  path: ./model        # MLmodel lists only the 'transformers' flavor
  type: mlflow_model
instance_type: Standard_F4s_v2
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
model:
  path: ./model
  type: mlflow_model
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
  conda_file: ./environment/conda.yaml   # lists azureml-inference-server-http
instance_type: Standard_F4s_v2
instance_count: 3
```

## References
- how-to-deploy-mlflow-models-online-endpoints.md ("Only models with the pyfunc flavor" get a
  generated scoring script and environment), how-to-deploy-mlflow-models-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import is_no_code, iter_mlflow_deployments
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML411", "mlflow-no-code-without-pyfunc", Severity.ERROR, prevents=("BadArgument", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for dep, model, info in iter_mlflow_deployments(project):
        if not is_no_code(dep) or info.problem or "python_function" in info.flavors:
            continue
        flavors = ", ".join(info.flavors) or "none"
        yield Violation(dep.at("model"),
                        f"no-code deployment of MLflow model '{model.spec.path}', whose MLmodel has no "
                        f"python_function flavor (flavors: {flavors})",
                        "add code_configuration with a score.py and an environment with the inference server, or "
                        "save the model with a pyfunc flavor", key=True)
