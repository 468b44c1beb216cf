"""An MLflow model for a no-code deployment whose own conda file is not fully pinned.

## What it does
For no-code deployments (no `code_configuration`, no `environment`) of a local
`mlflow_model`, reads the conda file that `MLmodel` names (`python_function.env`, usually
`conda.yaml` in the model folder) and reports each dependency that is not pinned to one
version, with the same rules as AML401 (conda) and AML402 (pip). The finding points at the
line in the model's conda file.

## Why is this bad?
In a no-code deployment Azure ML builds the environment from the model's conda file, and the
dependencies are installed when the container starts. Unpinned dependencies resolve
differently on each start, can take long enough to fail the probes (HTTP 502 while the
container is still installing, ResourceNotReady), and can install versions the model was not
saved with. The MLflow deployment guide recommends pinned dependencies.

## Example
```yaml
# model/conda.yaml (written by hand, or edited after mlflow.save_model)
dependencies:
  - python=3.11.7
  - pip=24.2
  - pip:
      - mlflow
      - scikit-learn>=1.3
```
Use instead:
```yaml
# model/conda.yaml as MLflow writes it: every version pinned
dependencies:
  - python=3.11.7
  - pip=24.2
  - pip:
      - mlflow==2.17.2
      - scikit-learn==1.5.2
```

## Options
- `python_pin` (see AML401).

## References
- how-to-deploy-mlflow-models.md and how-to-deploy-mlflow-models-online-endpoints.md
  (dependencies installed at container start; pin them), how-to-deploy-mlflow-models-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import is_no_code, iter_mlflow_deployments
from amlforge.policies.environment._pins import conda_pin_problem, pip_pin_problem
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML412", "unpinned-mlflow-model-dependency", Severity.WARNING, prevents=("HTTP 502", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    patch = str(project.option("python_pin", "minor")).lower() == "patch"
    seen: set[int] = set()
    for dep, _, info in iter_mlflow_deployments(project):
        if not is_no_code(dep) or info.conda is None or id(info) in seen:
            continue
        seen.add(id(info))
        for d in info.conda.conda:
            problem = conda_pin_problem(d, python_patch=patch)
            if problem:
                yield Violation(d.location, *problem)
        for d in info.conda.pip:
            problem = pip_pin_problem(d)
            if problem:
                yield Violation(d.location, *problem)
