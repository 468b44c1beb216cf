"""Dockerfiles for environments with ``dockerfile: true``.

For each such environment, below the output folder::

    docker/<environment>/Dockerfile
    docker/<environment>/.dockerignore
    docker/<environment>/conda.yaml        (or conda.lock.yaml: the pinned lock, when fresh)

The image starts from the environment's base image (an official Azure ML inference image,
pinned by tag or digest), creates the conda environment at build time from the pinned file
(nothing is resolved when the container starts), runs as a non-root user, and starts the
Azure ML inference server (``azmlinfsrv``) on port 5001 with a ``HEALTHCHECK`` on its liveness
route that mirrors the deployments' liveness probe. ``AZUREML_MODEL_DIR`` and
``AZUREML_ENTRY_SCRIPT`` default to the Azure layout; Azure sets them when it runs the image.
The base image must provide ``conda`` (the Azure ML inference images do).
"""

from __future__ import annotations

import json
import posixpath

from amlforge.generators._render import render
from amlforge.generators.azureml_yaml import LIVENESS_PATH, SERVER_PORT
from amlforge.generators.inputs import DOCKER_DIR, Inputs
from amlforge.specs.probes import ProbeSettings

#: Marks a generated Dockerfile; ``amlforge import`` reads the JSON after it.
SOURCE_MARKER = "# amlforge-source: "
APP_ROOT = "/var/azureml-app"
USER_ID = 10001


def context_dir(environment: str) -> str:
    """The build context of an environment, below the output folder."""
    return f"{DOCKER_DIR}/{environment}"


def conda_copy_name(inputs: Inputs, environment: str) -> str:
    """Name of the conda file inside the build context."""
    source = inputs.conda.get(environment)
    return "conda.lock.yaml" if source is not None and source.locked else "conda.yaml"


def _users(inputs: Inputs, environment: str) -> list[tuple[str, str]]:
    return [(ep_name, dep_name) for ep_name, ep in inputs.spec.sorted_endpoints()
            for dep_name, dep in sorted(ep.deployments.items()) if dep.environment == environment]


def _entry_script(inputs: Inputs, environment: str) -> str:
    spec = inputs.spec
    scripts = set()
    for ep_name, dep_name in _users(inputs, environment):
        dep = spec.endpoints[ep_name].deployments[dep_name]
        code = spec.code.get(dep.code or "")
        if code is not None and dep.scoring_script is not None:
            folder = posixpath.basename(code.path) if code.path else ""
            scripts.add(posixpath.join(folder, dep.scoring_script) if folder else dep.scoring_script)
    return scripts.pop() if len(scripts) == 1 else "score.py"


def _healthcheck(inputs: Inputs, environment: str) -> dict[str, int]:
    """HEALTHCHECK timings from the most lenient liveness probe of the deployments using it."""
    probes = [inputs.spec.endpoints[e].deployments[d].liveness_probe or ProbeSettings()
              for e, d in _users(inputs, environment)] or [ProbeSettings()]
    return {
        "start_period": max(p.initial_delay for p in probes),
        "interval": max(max(p.period for p in probes), 1),
        "timeout": max(max(p.timeout for p in probes), 1),
        "retries": max(max(p.failure_threshold for p in probes), 1),
    }


def render_dockerfile(inputs: Inputs, environment: str) -> str:
    """``docker/<environment>/Dockerfile``."""
    env = inputs.spec.environments[environment]
    assert env.image is not None and env.conda_file is not None  # the spec validated it
    marker = json.dumps({"environment": environment, "image": env.image,
                         "conda_file": inputs.rebase(env.conda_file, 2)}, sort_keys=True)
    probe_url = f"http://127.0.0.1:{SERVER_PORT}{LIVENESS_PATH}"
    return render(
        "docker/Dockerfile.j2", source=inputs.spec_name, environment=environment, marker=SOURCE_MARKER + marker,
        image=env.image, conda_copy=conda_copy_name(inputs, environment), prefix=f"/azureml-envs/{environment}",
        app_root=APP_ROOT, model_dir=f"{APP_ROOT}/azureml-models", entry_script=_entry_script(inputs, environment),
        port=SERVER_PORT, uid=USER_ID, health=_healthcheck(inputs, environment),
        health_cmd=["python", "-c", f"import urllib.request; urllib.request.urlopen({probe_url!r}, "
                                    f"timeout={_healthcheck(inputs, environment)['timeout']})"],
        server_cmd=["/bin/sh", "-c", f'exec azmlinfsrv --entry_script "$AZUREML_ENTRY_SCRIPT" --port {SERVER_PORT}'],
    )


def render_dockerignore(inputs: Inputs, environment: str) -> str:
    """``docker/<environment>/.dockerignore``: only the conda file goes to the builder."""
    return render("docker/dockerignore.j2", source=inputs.spec_name, conda_copy=conda_copy_name(inputs, environment))


def generate_docker(inputs: Inputs) -> dict[str, str]:
    """Dockerfile, .dockerignore and the pinned conda file of every ``dockerfile: true`` environment."""
    files: dict[str, str] = {}
    for name, env in sorted(inputs.spec.environments.items()):
        if not env.dockerfile:
            continue
        folder = context_dir(name)
        files[f"{folder}/Dockerfile"] = render_dockerfile(inputs, name)
        files[f"{folder}/.dockerignore"] = render_dockerignore(inputs, name)
        source = inputs.conda.get(name)
        files[f"{folder}/{conda_copy_name(inputs, name)}"] = source.text if source is not None else ""
    return files


__all__ = ["SOURCE_MARKER", "context_dir", "generate_docker", "render_dockerfile", "render_dockerignore"]
