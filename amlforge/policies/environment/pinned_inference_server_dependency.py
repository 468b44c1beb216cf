"""A pin of a package the inference server manages itself (Flask and its companions).

## What it does
Reports version constraints on `flask`, `werkzeug`, `jinja2`, `itsdangerous`, `markupsafe`
and `click` in a conda file whose environment gets the inference server, from
`azureml-inference-server-http` or `azureml-defaults` in the conda file or from a prebuilt
inference image. Listing these packages without a version is not reported. Pins that
contradict the pinned server release are reported by AML406 instead.

## Why is this bad?
The server pins the Flask stack it was tested with, and the inference server
troubleshooting guide says not to pin `flask`, `jinja2`, `itsdangerous`, `werkzeug`,
`markupsafe` or `click` yourself. A pin that works today conflicts with the next server
upgrade (ImageBuildFailure), or installs a combination the server fails to import
(ResourceNotReady, e.g. `register() takes 3 positional arguments` with Flask 2 and an old
server).

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - flask==3.1.0
      - werkzeug==3.1.3
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
- includes/machine-learning-inference-server-troubleshooting.md ("do not pin")
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import (
    SERVER_MANAGED,
    conda_files,
    has_server,
    parse_image,
    server_conflicts,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML405", "pinned-inference-server-dependency", Severity.WARNING,
      prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for env, conda in conda_files(project):
        if has_server(conda):
            source = "the inference server in this conda file"
        else:
            known = parse_image(env.spec.image).known if env.spec.image else None
            if known is None or not known.bundles_server:
                continue
            source = f"the inference server of '{env.spec.image}'"
        conflicting = {id(c.dep) for c in server_conflicts(project, conda)}
        for dep in conda.dependencies:
            if dep.name not in SERVER_MANAGED or not dep.spec.strip() or id(dep) in conflicting:
                continue
            yield Violation(dep.location,
                            f"'{dep.raw.strip()}' pins a package that {source} installs and pins itself",
                            f"remove the {dep.name} pin and let the server choose the version")
