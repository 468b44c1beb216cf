"""An inference server release with a known defect, or one used outside what it supports.

## What it does
Compares the `azureml-inference-server-http` releases that a conda file's constraint allows with
the known defects in amlforge's knowledge catalog (`amlforge data`), and reports when every
allowed release has the defect:
- 1.3.0 to 1.3.4 import `azureml.contrib.services` at start and fail with ModuleNotFoundError in
  some environments (error);
- releases before 1.0.0 fail in `patch_flask` when `werkzeug>=3` is installed (error, when the
  conda file pins such a werkzeug);
- 1.5.x supports Python 3.9 to 3.12 only (warning, for another pinned Python).

## Why is this bad?
The server is the container's entry point: when it cannot import or patch Flask, the container
never becomes ready and the deployment fails with ResourceNotReady after the probe budget.

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.3.2
```
Use instead:
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
```

## References
- Azure/azureml-examples issues 4012 and 4009 (1.3.x and azureml.contrib.services)
- microsoft/azureml-inference-server issue 90 (werkzeug 3)
- PyPI metadata of azureml-inference-server-http 1.5.1 (classifiers)
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import (
    conda_files,
    python_minor,
    server_candidates,
    server_dependency,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.conda import CondaFile
from amlforge.specs.knowledge import ServerDefect
from amlforge.specs.project import Project


@rule("AML422", "defective-inference-server-release", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    defects = project.knowledge.server_defects
    for _, conda in conda_files(project):
        allowed = server_candidates(conda)
        if not allowed:
            continue
        # packaging costs ~5 ms to import: only where there is a server pin to judge
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        server = server_dependency(conda)
        for defect in defects:
            try:
                affected = SpecifierSet(defect.versions)
            except InvalidSpecifier:
                continue
            if not all(affected.contains(r.version, prereleases=True) for r in allowed):
                continue
            condition = _condition(conda, defect)
            if condition is None:
                continue
            severity = Severity.WARNING if defect.python and not defect.with_ else None
            yield Violation(server.location, f"'{server.raw.strip()}' {condition}{defect.defect}",
                            f"pin {defect.fix}", severity=severity)


def _condition(conda: CondaFile, defect: ServerDefect) -> str | None:
    """'' when the defect applies unconditionally, a clause naming what triggers it, or None."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    if defect.with_:
        name, _, constraint = defect.with_.partition(">=")
        pins = [d for d in conda.find(name.strip()) if d.version]
        if not constraint or not any(Version(_plain(d.version)) >= Version(constraint) for d in pins if _plain(d.version)):
            return None
        return f"with '{pins[0].raw.strip()}' "
    if defect.python:
        py = conda.python
        minor = python_minor(py) if py is not None else None
        if minor is None:
            return None
        try:
            if SpecifierSet(defect.python).contains(Version(f"{minor[0]}.{minor[1]}.0")):
                return None
        except InvalidSpecifier:
            return None
        return f"on Python {minor[0]}.{minor[1]}: "
    return ""


def _plain(version: str) -> str:
    import re

    m = re.match(r"\d+(\.\d+)*", version)
    return m.group(0) if m else ""

