"""Flask 2 or later with an inference server release that predates Flask 2 support.

## What it does
Reads the versions of `azureml-inference-server-http`, `azureml-defaults` and `flask` that an
environment's conda file allows, and reports the combinations the inference server
troubleshooting guide documents as broken:
- `flask` pinned to 2 or later with `azureml-inference-server-http` below 0.7.0 (0.7.0 is the
  first release that supports Flask 2), or with `azureml-defaults` below 1.44 (which bundles
  a 0.4.x server);
- `azureml-inference-server-http` below 0.4.11 without a Flask 1 pin: those releases do not
  pin Flask themselves, so the build installs Flask 2 or later (and Jinja2 3.1).

A server constraint counts as "below" when every release it allows is below the threshold
(`==0.6.1`, `~=0.4.13`, `<0.7`), using the release list in
`amlforge/data/inference_server_versions.json`.

## Why is this bad?
The server fails while importing its Flask blueprint, with
`TypeError: register() takes 3 positional arguments but 4 were given` (Flask 2 with a server
below 0.7.0), or `ImportError: cannot import name 'Markup' from 'jinja2'` (server below
0.4.11). The container never becomes ready: ResourceNotReady.

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.9
  - pip=24.2
  - pip:
      - azureml-inference-server-http==0.6.1
      - flask==2.2.5
```
Use instead:
```yaml
# conda.yaml: a current server, and Flask left to it
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
```

## References
- includes/machine-learning-inference-server-troubleshooting.md (the `register()` error and
  the Markup ImportError; "do not pin flask")
- how-to-inference-server-http.md (server version history)
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import (
    DEFAULTS,
    conda_files,
    server_candidates,
    server_dependency,
    specifier_of,
    version_range,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML404", "flask2-with-old-inference-server", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    for _, conda in conda_files(project):
        # packaging costs ~5 ms to import: only where there is a conda file to judge
        from packaging.version import Version

        flask2, jinja_fixed, defaults_fixed = Version("0.7.0"), Version("0.4.11"), Version("1.44")
        flask = conda.find("flask")
        flask_range = None
        if flask:
            spec = specifier_of(flask[0])
            flask_range = version_range(spec) if spec is not None else None
        forces_flask2 = flask_range is not None and flask_range.lo is not None and flask_range.lo >= Version("2")
        keeps_flask1 = flask_range is not None and flask_range.hi is not None and flask_range.hi <= Version("2")

        server = server_dependency(conda)
        allowed = server_candidates(conda) or []
        if server is not None and allowed:
            newest = max(r.version for r in allowed)
            if newest < flask2 and forces_flask2:
                yield Violation(
                    server.location,
                    f"'{server.raw.strip()}' allows only releases before 0.7.0 (newest {newest}), which do not "
                    f"support Flask 2, but '{flask[0].raw.strip()}' installs Flask 2 or later",
                    "upgrade azureml-inference-server-http (e.g. ==1.5.1) and remove the flask pin")
            elif newest < jinja_fixed and not keeps_flask1:
                yield Violation(
                    server.location,
                    f"'{server.raw.strip()}' allows only releases before 0.4.11 (newest {newest}), which do not "
                    "pin Flask: the build installs Flask 2 or later and the server fails to import",
                    "upgrade azureml-inference-server-http (e.g. ==1.5.1)")
        for dep in conda.find(DEFAULTS):
            spec = specifier_of(dep)
            if spec is None or not forces_flask2:
                continue
            r = version_range(spec)
            if r.hi is not None and (r.hi < defaults_fixed or (r.hi == defaults_fixed and not r.hi_incl)):
                yield Violation(
                    dep.location,
                    f"'{dep.raw.strip()}' is below 1.44 and bundles an inference server without Flask 2 "
                    f"support, but '{flask[0].raw.strip()}' installs Flask 2 or later",
                    "upgrade azureml-defaults to 1.44 or later (or use azureml-inference-server-http) and remove "
                    "the flask pin")
