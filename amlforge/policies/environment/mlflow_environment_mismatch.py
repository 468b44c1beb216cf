"""An explicit environment that pins other versions than the MLflow model was saved with.

## What it does
For deployments of a local `mlflow_model` that bring their own `environment`, compares the
environment's conda file with the conda file MLflow saved next to the model (named by
`MLmodel`). A package pinned in both whose versions cannot match (`scikit-learn==1.4.2` in
the environment, `scikit-learn==1.5.2` in the model's file), or a different Python minor
version, is reported at the environment's line.

## Why is this bad?
With an explicit environment Azure ML ignores the model's conda file, so the model is loaded
with the environment's versions. MLflow records the versions the model was saved with
because pickled models (scikit-learn, XGBoost, cloudpickle'd pyfunc code) are only guaranteed
to load with them: a mismatch fails `init()` (ResourceNotReady) or silently changes
predictions. The MLflow docs note that the auto-detected pins "may not match what you
intend"; this rule makes the difference visible.

## Example
```yaml
# environment/conda.yaml used by the deployment; model/conda.yaml pins scikit-learn==1.5.2
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - mlflow==2.17.2
      - scikit-learn==1.4.2
```
Use instead:
```yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - mlflow==2.17.2
      - scikit-learn==1.5.2
```

## References
- concept-mlflow-models.md and how-to-deploy-mlflow-models.md (the model's conda file;
  custom environments), how-to-deploy-mlflow-models-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import (
    compatible,
    environment_of,
    iter_mlflow_deployments,
    python_minor,
    specifier_of,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML413", "mlflow-environment-mismatch", Severity.WARNING, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    seen: set[tuple[str, int, int]] = set()
    for dep, model, info in iter_mlflow_deployments(project):
        if dep.spec.environment is None or info.conda is None:
            continue
        env = environment_of(project, dep)
        conda = project.conda_for(env) if env is not None else None
        if conda is None:
            continue
        saved = {d.name: d for d in info.conda.dependencies}
        for d in conda.dependencies:
            other = saved.get(d.name)
            if other is None:
                continue
            if d.name == "python":
                mine, theirs = python_minor(d), python_minor(other)
                clash = mine is not None and theirs is not None and mine != theirs
            else:
                a, b = specifier_of(d), specifier_of(other)
                clash = (a is not None and b is not None and (d.pinned or other.pinned)
                         and str(a) != "" and str(b) != "" and not compatible(a, b))
            if not clash:
                continue
            key = (d.location.file, d.location.line, d.location.column)
            if key in seen:
                continue
            seen.add(key)
            where = f"{(model.spec.path or '').rstrip('/')}/{info.env_file}:{other.location.line}"
            yield Violation(d.location,
                            f"'{d.raw.strip()}' differs from '{other.raw.strip()}' that MLflow model "
                            f"'{model.spec.path}' was saved with ({where})",
                            f"use the model's version of {d.name}, or re-save the model with this one")
