"""The conda file of a no-code MLflow model lacks `azureml-ai-monitoring`.

## What it does
For a no-code deployment of a local MLflow model, reads the conda file that `MLmodel` names
(the platform builds the deployment's environment from it) and reports when it does not install
`azureml-ai-monitoring`.

## Why is this bad?
The platform's no-code scoring script imports `azureml.ai.monitoring` (the curated
`mlflow-py312-inference` environment gained the package on 2025-11-20). An environment built from
a model conda file without it fails at start with ModuleNotFoundError, and the deployment ends in
ResourceNotReady.

## Example
```yaml
# model/conda.yaml
dependencies:
  - python=3.11
  - pip<=24.2
  - pip:
      - mlflow==2.17.2
      - scikit-learn==1.5.2
```
Use instead:
```yaml
# model/conda.yaml
dependencies:
  - python=3.11
  - pip<=24.2
  - pip:
      - mlflow==2.17.2
      - scikit-learn==1.5.2
      - azureml-ai-monitoring==1.0.0
```

## References
- Azure/azureml-assets PR 4579; Azure/azureml-examples issue 4040
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import mlflow_conda_anchor, no_code_mlflow
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML424", "mlflow-model-without-ai-monitoring", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    needed = [str(p) for p in project.knowledge.mlflow.get("scorer_requires", [])]
    seen: set[str] = set()
    for dep, model, info in no_code_mlflow(project):
        if info.conda is None:
            continue
        missing = [name for name in needed if not info.conda.find(name)]
        key = info.conda.location.file
        if not missing or key in seen:
            continue
        seen.add(key)
        yield Violation(
            mlflow_conda_anchor(model, info),
            f"'{key}', the conda file of a no-code MLflow model, does not install "
            f"{', '.join(missing)}, which the platform's no-code scoring script imports",
            f"add {' and '.join(missing)} to the pip section of {info.env_file} (or log the model with "
            f"extra_pip_requirements=[\"{missing[0]}\"])")
