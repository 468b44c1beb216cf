"""A `python` pin that the inference server release or the prebuilt image cannot work with.

## What it does
Reads the Python version pinned in an environment's conda file (`python=3.8`,
`python==3.11.9`; ranges are not checked) and compares it with:
- the `Requires-Python` of every `azureml-inference-server-http` release the conda file
  allows (error when none accepts it): 1.4.0 and later need Python 3.9 or newer, 1.0.0 to
  1.3.4 need 3.8 or newer;
- the Python of a prebuilt inference image (warning when it differs): `minimal-py311-inference`
  is Python 3.11, `minimal-py312-inference` and `mlflow-py312-inference` 3.12,
  `minimal-ubuntu22.04-py39-*-inference` 3.9 (concept-prebuilt-docker-images-inference.md).

The second check is a heuristic: how the image build combines a conda file with a prebuilt
inference image is not documented in detail (**unconfirmed**), but the server and packages
those images bundle are installed for the image's own Python, so a conda environment with
another Python cannot use them. It is skipped when the conda file installs its own inference
server (`azureml-inference-server-http`, or `azureml-defaults`, which depends on it): the
environment then brings its own server for its own Python.

## Why is this bad?
pip refuses a release whose `Requires-Python` excludes the interpreter ("requires a different
Python"), so the image build fails (ImageBuildFailure); with an unpinned server it silently
falls back to an old release. A Python that differs from the prebuilt image's leaves the
scoring script without the bundled server and packages, and the container fails to start
(ResourceNotReady).

## Example
```yaml
# conda.yaml
dependencies:
  - python=3.8
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
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
- PyPI metadata (Requires-Python) of azureml-inference-server-http, all releases
- concept-prebuilt-docker-images-inference.md and Azure/azureml-assets inference environments
  (concept-prebuilt-docker-images-inference.md)
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import (
    conda_files,
    parse_image,
    python_minor,
    server_candidates,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML407", "incompatible-python-version", Severity.ERROR, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for _, conda in conda_files(project):
        py = conda.python
        minor = python_minor(py) if py is not None else None
        allowed = server_candidates(conda)
        if py is None or minor is None or not allowed:
            continue
        from packaging.version import Version  # here: a run without conda files does not import packaging

        version = Version(f"{minor[0]}.{minor[1]}.0")
        if any(r.requires_python is None or r.requires_python.contains(version, prereleases=True) for r in allowed):
            continue
        needs = sorted({str(r.requires_python) for r in allowed})
        server = conda.find("azureml-inference-server-http")[0]
        yield Violation(py.location,
                        f"'{py.raw.strip()}' is Python {minor[0]}.{minor[1]}, but '{server.raw.strip()}' requires "
                        f"Python {' or '.join(needs)}",
                        "pin a Python the server supports (3.9 to 3.12 for current releases)")

    seen: set[tuple[str, int, str]] = set()
    for env in project.environments:
        if not env.spec.image:
            continue
        known = parse_image(env.spec.image).known
        env_conda = project.conda_for(env) if known is not None else None
        py = env_conda.python if env_conda is not None else None
        minor = python_minor(py) if py is not None else None
        if known is None or py is None or minor is None:
            continue
        if env_conda.find("azureml-inference-server-http") or env_conda.find("azureml-defaults"):
            continue  # the environment installs its own server, for its own Python
        if f"{minor[0]}.{minor[1]}" == known.python:
            continue
        key = (py.location.file, py.location.line, known.image)
        if key in seen:
            continue
        seen.add(key)
        yield Violation(py.location,
                        f"'{py.raw.strip()}' is Python {minor[0]}.{minor[1]}, but the image '{env.spec.image}' "
                        f"provides Python {known.python} with its bundled packages",
                        f"pin python={known.python}, or pick the prebuilt image for Python {minor[0]}.{minor[1]}",
                        severity=Severity.WARNING)
