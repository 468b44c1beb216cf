"""An `mlflow_model` whose local folder is not a complete MLflow model.

## What it does
For every model with `type: mlflow_model` and a local `path` (inline in a deployment or in a
model file), checks that:
- the path is a folder, and it contains an `MLmodel` file;
- `MLmodel` is readable YAML with a `flavors` mapping;
- the conda file that the `python_function` flavor names (`env: conda.yaml` or
  `env: {conda: conda.yaml}`) is in the folder.

## Why is this bad?
`MLmodel` is the single source of truth of an MLflow model: Azure ML reads its flavors to
decide how to load and serve the model, and, for no-code deployments, builds the environment
from the conda file it names. Without them the model cannot be registered as an MLflow model
or the container cannot load it (the error code the service returns is not documented;
BadArgument at registration or ResourceNotReady at start).

## Example
```yaml
model:
  path: ./model        # holds model.pkl only
  type: mlflow_model
```
Use instead:
```yaml
model:
  path: ./model        # saved with mlflow.sklearn.save_model: MLmodel, conda.yaml, model.pkl
  type: mlflow_model
```

## References
- concept-mlflow-models.md (the MLmodel file, flavors, `python_function.env`)
- how-to-deploy-mlflow-models-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import mlflow_model
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML410", "incomplete-mlflow-model", Severity.ERROR, prevents=("BadArgument", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for model in project.models:
        info = mlflow_model(project, model)
        if info is None:
            continue
        if info.problem:
            yield Violation(model.at("path"), f"mlflow_model path {info.problem}",
                            "point path at the folder MLflow saved (mlflow.<flavor>.save_model), which holds MLmodel")
        elif info.env_missing:
            yield Violation(model.at("path"),
                            f"{info.folder.raw.rstrip('/')}/MLmodel names the conda file '{info.env_file}', which is not in '{info.folder.raw}'",
                            "copy the conda file MLflow wrote next to MLmodel, or fix python_function.env")
