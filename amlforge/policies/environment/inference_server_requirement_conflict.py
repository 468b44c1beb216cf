"""A pin that contradicts what the pinned inference server release requires.

## What it does
Compares the pins of an environment's conda file (pip and conda sections) with the
requirements of the `azureml-inference-server-http` releases its constraint allows, read from
the releases' PyPI metadata (`amlforge/data/inference_server_versions.json`, releases 1.0.0 to
1.5.1). A pin is reported when no allowed release accepts it, for example `pydantic<2` next to
`azureml-inference-server-http==1.5.1`, which requires `pydantic~=2.12.0`.

With an unpinned or ranged server, pip may fall back to an older release that accepts the pin
(`pydantic<2` with an unpinned server installs server 1.0.0), so the pin is only reported when
every allowed release rejects it. Constraints that allow 0.x releases are not checked: their
requirements are not recorded.

## Why is this bad?
pip cannot satisfy both: the image build stops with `ResolutionImpossible` ("Cannot install
... because these package versions have conflicting dependencies") and the deployment fails
with ImageBuildFailure.

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - pydantic==1.10.13
```
Use instead:
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - pydantic==2.12.3
```

## References
- PyPI metadata (Requires-Dist) of azureml-inference-server-http 1.0.0 to 1.5.1
- how-to-inference-server-http.md ("Pinning conflicts with any of these ... will break environment resolution")
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import conda_files, server_conflicts
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML406", "inference-server-requirement-conflict", Severity.ERROR, prevents=("ImageBuildFailure",))
def check(project: Project) -> Iterator[Violation]:
    for _, conda in conda_files(project):
        for c in server_conflicts(project, conda):
            yield Violation(
                c.dep.location,
                f"'{c.dep.raw.strip()}' conflicts with '{c.server.raw.strip()}': {c.releases} {c.requirement}",
                f"change the pin to satisfy {c.requirement}, or remove it and let the server choose")
