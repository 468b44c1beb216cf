"""An environment without the inference server, used by a deployment with a scoring script.

## What it does
For every deployment that runs a scoring script (`code_configuration`), looks at its
environment (inline, or a standalone environment file it references) and reports it when
neither `azureml-inference-server-http` nor `azureml-defaults` (which depends on it) is in
the conda file, unless the image is a prebuilt inference image that bundles the server
(`mcr.microsoft.com/azureml/minimal-py312-inference`, `.../curated/minimal-py311-inference`,
and the other `*-inference` images of concept-prebuilt-docker-images-inference.md).

- Error: the image is an Azure ML base image known to lack the server (`openmpi*`,
  `intelmpi*`), with or without a conda file.
- Warning: any other image with a conda file: the conda file builds the Python environment
  the scoring script runs in, so the server has to be in it; amlforge cannot see inside the
  image.

Environments built from a Docker context (`build`) and images without a conda file other than
the Azure ML base images are not checked: their contents are not visible.

Model packaging adds the server: a deployment created with `az ml online-deployment create
--with-package` (`with_package=True` in the SDK, `--package-model` in older CLIs) runs in an
environment that Azure ML builds from the model package, with the inference server in it. A
deployment YAML does not say so. amlforge knows it when the run holds a model package spec (the
`--file` of `az ml model package`, `$schema: .../ModelVersionPackage.json`) whose
`base_environment_source` is the environment: that environment is a packaging base and is not
reported. Otherwise tell amlforge with the option `with_package` (true for every deployment, or
a list of deployment names).

## Why is this bad?
The container starts the scoring script through the inference server (`azmlinfsrv`). Without
it, nothing listens for the probes, the container never becomes ready and the deployment
ends in ResourceNotReady. The MLflow deployment guide says the package is "required for
online deployments" when you bring your own environment.

## Example
```yaml
# deployment: the openmpi base image has no inference server
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
  conda_file:
    dependencies:
      - python=3.11
      - pip=24.2
      - pip:
          - scikit-learn==1.5.2
```
Use instead:
```yaml
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
environment:
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
  conda_file:
    dependencies:
      - python=3.11
      - pip=24.2
      - pip:
          - azureml-inference-server-http==1.5.1
          - scikit-learn==1.5.2
```

## Options
- `with_package` (bool or list of deployment names, default false): the deployments are created
  with model packaging (`--with-package`), which adds the inference server.

## References
- how-to-package-models.md (model packaging adds the inference server to the package)
- concept-prebuilt-docker-images-inference.md (generic base images) and how-to-troubleshoot-online-endpoints.md ResourceNotReady
- how-to-deploy-mlflow-models-online-endpoints.md ("required for online deployments")
- how-to-inference-server-http.md
"""

from collections.abc import Callable, Iterator

from amlforge.policies.environment._helpers import (
    deployments_by_environment,
    has_server,
    parse_image,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML403", "missing-inference-server", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    users = deployments_by_environment(project)
    packaged = _packaged(project)
    for env in project.environments:
        scoring = [d for d in users.get(id(env), ()) if d.spec.code_configuration is not None
                   and not packaged(d.spec.name)]
        if not scoring or not env.spec.image or (env.spec.name or "").lower() in project.package_bases:
            continue
        image = parse_image(env.spec.image)
        known = image.known
        if known is not None and known.bundles_server:
            continue
        conda = project.conda_for(env)
        if conda is not None and has_server(conda):
            continue
        if conda is None and env.spec.conda_file is not None:
            continue  # unreadable or missing conda file: other rules report it
        names = ", ".join(sorted({d.label for d in scoring}))
        who = f"deployments {names} run" if len(scoring) > 1 else f"deployment {names} runs"
        if conda is None:
            if not image.generic_base:
                continue
            yield Violation(env.at("image"),
                            f"image '{image.raw}' has no inference server and there is no conda file to add it "
                            f"({who} a scoring script)",
                            "add a conda_file that installs azureml-inference-server-http, or use a prebuilt "
                            "inference image such as mcr.microsoft.com/azureml/minimal-py312-inference")
            continue
        if image.generic_base:
            message = (f"neither azureml-inference-server-http nor azureml-defaults is in the conda file, and the "
                       f"base image '{image.raw}' has no inference server ({who} a scoring script)")
        else:
            message = (f"neither azureml-inference-server-http nor azureml-defaults is in the conda file, which builds "
                       f"the Python environment on '{image.raw}', not a prebuilt inference image ({who} a scoring "
                       "script)")
        yield Violation(env.at("conda_file"), message, "add azureml-inference-server-http==<version> to the pip section",
                        severity=None if image.generic_base else Severity.WARNING)
    yield from _build_contexts(project, users)


def _packaged(project: Project) -> Callable[[str | None], bool]:
    """Whether a deployment (by name) is created with model packaging (the ``with_package`` option)."""
    value = project.option("with_package", False)
    if isinstance(value, (list, tuple)):
        names = {str(v).lower() for v in value}
        return lambda name: (name or "").lower() in names
    return lambda name: bool(value)


def _build_contexts(project: Project, users: dict) -> Iterator[Violation]:
    """Environments built from a Dockerfile (not custom containers with their own server): the
    Dockerfile must start from an image with the server, or pip-install it."""
    packaged = _packaged(project)
    for env in project.environments:
        if env.spec.build is None or env.spec.inference_config is not None:
            continue
        scoring = [d for d in users.get(id(env), ()) if d.spec.code_configuration is not None
                   and not packaged(d.spec.name)]
        dockerfile = project.dockerfile_of(env) if scoring else None
        if dockerfile is None or dockerfile.problem or has_server(dockerfile.pip):
            continue
        images = dockerfile.external_images()
        if not images or any(i.unresolved for i in dockerfile.images) or dockerfile.missing_requirement_files:
            continue  # a base image or a requirements file that is not known: nothing to say
        refs = [parse_image(i.image) for i in images]
        if any(r.known is not None and r.known.bundles_server for r in refs):
            continue
        last = images[-1]
        generic = refs[-1].generic_base
        yield Violation(last.location,
                        f"the Dockerfile builds on '{last.image}', which has no inference server, and no RUN line "
                        "pip-installs azureml-inference-server-http",
                        "add 'RUN pip install azureml-inference-server-http==<version>' (or start FROM a prebuilt "
                        "inference image such as mcr.microsoft.com/azureml/minimal-py312-inference)",
                        severity=None if generic else Severity.WARNING)
