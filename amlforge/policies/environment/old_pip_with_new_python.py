"""`pip<=21.3.1` pinned in a conda file whose Python is 3.10 or newer.

## What it does
Reports a conda file (an environment's, or the one an MLflow model's `MLmodel` names) that pins
pip to 21.3.1 or older (`pip<=21.3.1`, `pip=21.2.4`) together with Python 3.10 or newer. MLflow
wrote `pip<=21.3.1` into the conda files of models it logged for years.

## Why is this bad?
Those pip releases predate Python 3.10 support; the environment build fails to install the pip
section (ImageBuildFailure), or for a no-code MLflow model, at container start (ResourceNotReady).

## Example
```yaml
dependencies:
  - python=3.11
  - pip<=21.3.1
  - pip:
      - mlflow==2.17.2
```
Use instead:
```yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - mlflow==2.17.2
```

## References
- Azure/azureml-examples issue 4008
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import conda_files, no_code_mlflow, python_minor, specifier_of
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.conda import CondaFile
from amlforge.specs.project import Project


@rule("AML425", "old-pip-with-new-python", Severity.ERROR, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    facts = project.knowledge.mlflow.get("old_pip") or {}
    files: dict[str, CondaFile] = {c.location.file: c for _, c in conda_files(project)}
    for _, _, info in no_code_mlflow(project):
        if info.conda is not None:
            files.setdefault(info.conda.location.file, info.conda)
    for conda in files.values():
        found = _problem(conda, str(facts.get("pip", "<=21.3.1")), str(facts.get("python", ">=3.10")))
        if found is not None:
            yield found


def _problem(conda: CondaFile, old_pip: str, new_python: str) -> Violation | None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    py = conda.python
    minor = python_minor(py) if py is not None else None
    if minor is None or not SpecifierSet(new_python).contains(Version(f"{minor[0]}.{minor[1]}.0")):
        return None
    for pip in conda.find("pip"):
        spec = specifier_of(pip)
        if spec is None or not str(spec):
            continue
        old = SpecifierSet(old_pip)
        # every pip the pin allows is an old one: it allows nothing newer than the old range's top
        allowed = [v for v in _PIP_RELEASES if spec.contains(Version(v))]
        if allowed and all(old.contains(Version(v)) for v in allowed):
            return Violation(pip.location,
                             f"'{pip.raw.strip()}' allows only pip {old_pip} releases, which fail to install "
                             f"the pip section on Python {minor[0]}.{minor[1]}",
                             "pin a current pip, such as pip=24.2")
    return None


#: pip releases used to decide what a constraint allows (one per minor line).
_PIP_RELEASES = ("19.3.1", "20.3.4", "21.0.1", "21.2.4", "21.3.1", "22.0.4", "22.3.1", "23.3.2", "24.0", "24.2",
                 "24.3.1", "25.0.1", "25.1.1", "25.3")
