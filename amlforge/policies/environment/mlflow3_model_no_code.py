"""A no-code deployment of a model logged with MLflow 3.

## What it does
Reads `mlflow_version` from the `MLmodel` file of a local MLflow model deployed without a
scoring script and environment (a no-code deployment), and reports a major version above the
newest one the platform's no-code scorer is known to serve (MLflow 2, per amlforge's knowledge
catalog).

## Why is this bad?
In 2026 the platform's generated scoring script and environment failed with models logged by
MLflow 3.x (3.7.0 reported): the container starts, fails to load the model and the deployment
ends in ResourceNotReady, or scoring fails with HTTP 500.

## Example
```yaml
# MLmodel of ./model
mlflow_version: 3.7.0
```
Use instead: log the model with `mlflow<3`, or deploy it with your own `code_configuration` (a
score.py that loads it with `mlflow.pyfunc.load_model`) and an environment that pins the MLflow
version the model was logged with:
```yaml
# MLmodel of ./model
mlflow_version: 2.17.2
```

## References
- Azure/azureml-examples issues 3873, 4051, 4008, 4040, 3983 (MLflow no-code breakages, 2026)
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import no_code_mlflow
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML423", "mlflow3-model-no-code", Severity.WARNING, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    highest = int(project.knowledge.mlflow.get("no_code_max_major", 2))
    for dep, model, info in no_code_mlflow(project):
        head = info.mlflow_version.split(".", 1)[0]
        if not head.isdigit() or int(head) <= highest:
            continue
        yield Violation(
            model.at("path"),
            f"no-code deployment of a model logged with MLflow {info.mlflow_version}; the platform's no-code "
            f"scorer is known to serve MLflow {highest}.x models only",
            f"log the model with mlflow<{highest + 1}, or add code_configuration and an environment that pin "
            f"mlflow=={info.mlflow_version}")
