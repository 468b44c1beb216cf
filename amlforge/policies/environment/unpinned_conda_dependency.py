"""A conda dependency that is not pinned to one version.

## What it does
Reports every conda dependency of an environment's conda file (`conda_file`, a local file or
an inline mapping) that does not name exactly one version: a bare name (`scikit-learn`), a
range (`numpy>=1.20`) or a wildcard (`pandas=2.*`). The finding points at the dependency's
line in the conda file.

Two packages get the pin that is usual for them:
- `python` may be pinned to a minor version (`python=3.11`): patch releases of one minor
  version are bug-fix releases with the same ABI, and the minor version is what decides
  which wheels and conda builds fit. Set `python_pin = "patch"` to require `python=3.11.9`.
- `pip` may be pinned as `pip=24.2`: pip versions are `YY.N`, and its rare `YY.N.P`
  releases only fix bugs.

The packages of the `pip:` section are checked by AML402.

## Why is this bad?
An unpinned dependency resolves to whatever is newest on the day the image is built, so two
builds of the same YAML differ, and a new release of any package (or of one it pulls in) can
break the solve or the code. The troubleshooting guide's fix for an image build that stops at
`Installing pip dependencies: ...working...` is to pin versions. For MLflow and other
environments whose conda packages are installed when the container starts, an unresolvable
or slow solve shows up as HTTP 502 while the container is still starting.

## Example
```yaml
# conda.yaml
name: scoring
channels: [conda-forge]
dependencies:
  - python
  - scikit-learn
  - numpy>=1.20
```
Use instead:
```yaml
# conda.yaml
name: scoring
channels: [conda-forge]
dependencies:
  - python=3.11
  - scikit-learn=1.5.2
  - numpy=1.26.4
```

## Options
- `python_pin` (`"minor"` or `"patch"`, default `"minor"`): how precisely `python` must be
  pinned.

## Fix safety
Safe, when the conda file has a lock (`conda-lock.yml` from `amlforge lock`, next to it) that
records exactly one conda version of the package for linux-64, and that version satisfies the
constraint written: the fix pins that version, the one the environment was solved with. The
lock's key covers the conda file's text, so run `amlforge lock` again afterwards (AML418
reports the lock as stale until then). No fix without a lock.

## References
- how-to-troubleshoot-online-endpoints.md, "ImageBuildFailure: generic" (pin versions)
- conda match specifications: `=1.2` means "1.2 or any 1.2.x", `==1.2.3` means exactly 1.2.3
"""

from collections.abc import Iterator

from amlforge.policies.environment._lock_pins import locked_versions, pin_fix
from amlforge.policies.environment._helpers import conda_files
from amlforge.policies.environment._pins import conda_pin_problem
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML401", "unpinned-conda-dependency", Severity.WARNING, prevents=("ImageBuildFailure", "HTTP 502"))
def check(project: Project) -> Iterator[Violation]:
    patch = str(project.option("python_pin", "minor")).lower() == "patch"
    for env, conda in conda_files(project):
        locked = locked_versions(project, env)
        for dep in conda.conda:
            problem = conda_pin_problem(dep, python_patch=patch)
            if problem:
                yield Violation(dep.location, *problem, fix=pin_fix(dep, locked))
