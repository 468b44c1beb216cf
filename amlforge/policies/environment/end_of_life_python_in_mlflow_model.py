"""A no-code MLflow model whose conda file pins Python 3.8 or older.

## What it does
For a no-code deployment of a local MLflow model, reads the Python version pinned in the conda
file that `MLmodel` names and reports versions the knowledge catalog lists as end of life for
no-code deployments (3.8 and older).

## Why is this bad?
The platform builds the model's environment from that conda file at deploy time. Model conda
files on Python 3.7 and 3.8 no longer resolve against current channels and inference server
releases (the server dropped 3.8 in 1.4.0), so the deployment fails to start (ResourceNotReady).

## Example
```yaml
# model/conda.yaml
dependencies:
  - python=3.8.10
```
Use instead: re-log the model from a Python 3.11 or 3.12 environment, or edit the pin to a
current Python after checking the model loads there:
```yaml
# model/conda.yaml
dependencies:
  - python=3.11.7
```

## References
- Azure/azureml-examples issue 3983; MicrosoftLearning/mslearn-mlops issue 60
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import no_code_mlflow, python_minor
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML426", "end-of-life-python-in-mlflow-model", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    old = {str(v) for v in project.knowledge.mlflow.get("end_of_life_python", [])}
    seen: set[str] = set()
    for _, model, info in no_code_mlflow(project):
        py = info.conda.python if info.conda is not None else None
        minor = python_minor(py) if py is not None else None
        if minor is None or f"{minor[0]}.{minor[1]}" not in old or py.location.file in seen:
            continue
        seen.add(py.location.file)
        yield Violation(py.location,
                        f"the conda file of a no-code MLflow model pins Python {minor[0]}.{minor[1]}, which no-code "
                        "deployments can no longer build",
                        "re-log the model from Python 3.11 or 3.12 (or pin python=3.11 after checking it loads)")
