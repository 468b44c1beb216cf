"""One package required at versions that cannot both hold, in one conda file.

## What it does
Groups the dependencies of a conda file by package (conda names are matched to PyPI names
with `amlforge/data/pypi_to_conda.json`, so `pytorch` in the conda section is `torch` in the
pip section) and reports:
- error: the same package listed twice in the same section with constraints no version
  satisfies (`numpy==1.26.4` and `numpy==1.24.4`);
- warning: a package installed by conda and by pip with constraints no version satisfies
  (`numpy=1.26.4` and, under `pip:`, `numpy==1.24.4`).

## Why is this bad?
Two contradictory requirements in one section make the solver give up: conda reports the
specifications as unsatisfiable, pip stops with `ResolutionImpossible`, and the image build
fails (ImageBuildFailure). When conda and pip both install a package, pip overwrites the
conda files in place without telling conda: other conda packages built against the conda
version may then fail to import, and the scoring container fails to start (ResourceNotReady).

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - numpy=1.26.4
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - numpy==1.24.4
```
Use instead:
```yaml
# conda.yaml: each package once
dependencies:
  - python=3.11
  - numpy=1.26.4
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
```

## References
- conda docs, "Using pip in an environment" (pip changes are invisible to conda)
- how-to-troubleshoot-online-endpoints.md, ImageBuildFailure (dependency problems in the build log)
"""

from collections.abc import Iterator
from functools import lru_cache

from amlforge.policies.environment._helpers import compatible, conda_files, specifier_of
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@lru_cache(maxsize=1)
def _conda_to_pypi() -> dict[str, str]:
    import json
    from importlib import resources

    from amlforge.specs.conda import normalise

    table = json.loads(resources.files("amlforge.data").joinpath("pypi_to_conda.json").read_text(encoding="utf-8"))
    return {normalise(v["conda_name"]): normalise(k) for k, v in table.items() if isinstance(v, dict)}


@rule("AML414", "conflicting-dependency-pins", Severity.ERROR, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    mapping = _conda_to_pypi()
    for _, conda in conda_files(project):
        by_name: dict[str, list] = {}
        for dep in conda.dependencies:
            if dep.name in ("python", "pip"):
                continue
            spec = specifier_of(dep)
            if spec is None or not str(spec):
                continue
            name = mapping.get(dep.name, dep.name) if dep.source == "conda" else dep.name
            by_name.setdefault(name, []).append((dep, spec))
        for name, entries in by_name.items():
            for i, (later, later_spec) in enumerate(entries):
                for earlier, earlier_spec in entries[:i]:
                    if compatible(earlier_spec, later_spec):
                        continue
                    place = f"line {earlier.location.line}"
                    if earlier.source == later.source:
                        yield Violation(later.location,
                                        f"'{later.raw.strip()}' contradicts '{earlier.raw.strip()}' ({place}): no "
                                        f"version of {name} satisfies both",
                                        f"keep one {name} entry with the version you tested")
                    else:
                        yield Violation(later.location,
                                        f"{name} is installed by conda ('{earlier.raw.strip()}', {place}) and by pip "
                                        f"('{later.raw.strip()}') at versions that cannot match",
                                        f"install {name} once, with the version you tested",
                                        severity=Severity.WARNING)
                    break

