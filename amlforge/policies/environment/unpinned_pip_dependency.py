"""A pip requirement that is not pinned with `==`, or a VCS/URL requirement without a fixed revision.

## What it does
Reports every requirement in the `pip:` section of an environment's conda file that does not
name exactly one version:
- a bare name (`scikit-learn`), a range (`numpy>=1.20`, `pandas~=2.2`) or a wildcard
  (`torch==2.*`);
- a VCS requirement (`git+https://...`) that does not end in a commit hash (`@<sha>`): a
  branch or a tag can move;
- a URL to an archive that is neither a wheel (whose file name carries the version) nor
  fixed by a hash fragment (`#sha256=...`).

Packages that the inference server installs itself (`flask`, `werkzeug`, `jinja2`,
`itsdangerous`, `markupsafe`, `click`) are left to AML405 when the conda file lists the
server: the docs say not to pin them at all. Options lines (`--extra-index-url`, `-r`) are
not checked.

## Why is this bad?
pip installs whatever is newest when the image is built. A new release of a requirement or of
one of its own dependencies can make the build fail (the troubleshooting guide's fix for a
build stuck at `Installing pip dependencies` is to pin versions), or install a version your
model was not saved with, so that `init()` fails and the deployment ends in ResourceNotReady.

The same goes for `pip install` in the `RUN` lines of a build context's Dockerfile, and for the
requirements files those lines install (`pip install -r requirements.txt`), located in those
files.

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn
      - numpy>=1.20
      - git+https://github.com/contoso/features.git@main
```
Use instead:
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn==1.5.2
      - numpy==1.26.4
      - git+https://github.com/contoso/features.git@3f9c2a1d5b7e4c8a9f0b1c2d3e4f5a6b7c8d9e0f
```

## Fix safety
Safe, when the conda file has a lock (`conda-lock.yml` from `amlforge lock`, next to it) that
records exactly one pip version of the package for linux-64, and that version satisfies the
constraint written: the fix pins that version, the one the environment was solved with. The
lock's key covers the conda file's text, so run `amlforge lock` again afterwards (AML418
reports the lock as stale until then). No fix without a lock.

## References
- how-to-troubleshoot-online-endpoints.md, "ImageBuildFailure: generic"
- pip VCS support: `@<commit-hash>` pins a revision; branches and tags are resolved at install time
"""

from collections.abc import Iterator

from amlforge.policies.environment._lock_pins import locked_versions, pin_fix
from amlforge.policies.environment._helpers import conda_files, dockerfile_pip_sections, has_server
from amlforge.policies.environment._pins import pip_pin_problem
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML402", "unpinned-pip-dependency", Severity.WARNING, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    pip_sections = [(locked_versions(project, env), conda) for env, conda in conda_files(project)]
    pip_sections += [(None, section) for section in dockerfile_pip_sections(project)]
    for locked, conda in pip_sections:
        server = has_server(conda)
        for dep in conda.pip:
            problem = pip_pin_problem(dep, server=server)
            if problem:
                yield Violation(dep.location, *problem, fix=pin_fix(dep, locked))
