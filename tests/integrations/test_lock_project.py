"""`amlforge lock` of a project: amlforge.yaml and spec folders, with the channels (a mirror)
recorded in the project's configuration, which lock, lint (AML418) and generate all use.

Real conda-lock with the built-in py-rattler solver, against two local ``file://`` channels
built by tests/integrations/conda_channel.py: the conda file names ``conda-forge`` (which this
machine cannot reach), and the configuration points at a mirror.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES

try:  # tests/ may or may not be a package
    from .conda_channel import build_channel
except ImportError:
    from conda_channel import build_channel  # type: ignore[no-redef]

pytestmark = pytest.mark.slow

CONDA = """\
name: mirror-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy<2
"""


def amlforge(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "amlforge", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    mirror = build_channel(tmp_path / "mirror")
    project = tmp_path / "svc"
    shutil.copytree(EXAMPLES / "sklearn-blue-green", project, ignore=shutil.ignore_patterns("*.yml", "generated"))
    (project / "environment" / "conda.yaml").write_text(CONDA)
    config = project / ".amlforge.toml"
    config.write_text(config.read_text() + f'channels = ["{mirror}"]\n')
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"), "NO_COLOR": "1"}
    return project, mirror, env


def test_lock_a_spec_with_the_projects_mirror_and_lint_and_generate_agree(project) -> None:
    folder, mirror, env = project
    locked = amlforge("lock", "amlforge.yaml", "--solver", "embedded", cwd=folder, env=env)
    assert locked.returncode == 0, locked.stderr
    assert "environment/conda.yaml: locked" in locked.stdout
    pinned = folder / "environment" / "conda.lock.yaml"
    assert yaml.safe_load(pinned.read_text())["channels"] == [mirror]
    lock = yaml.safe_load((folder / "environment" / "conda-lock.yml").read_text())
    assert all(p["url"].startswith(mirror + "/") for p in lock["package"])

    # the same channels everywhere: fresh for lock --check (spec and spec folder), lint and generate
    assert amlforge("lock", "--check", "amlforge.yaml", cwd=folder, env=env).returncode == 0
    check_folder = amlforge("lock", "--check", folder.name, cwd=folder.parent, env=env)
    assert check_folder.returncode == 0 and "svc/environment/conda.yaml: fresh" in check_folder.stdout
    lint = amlforge("lint", "--select", "AML418", ".", cwd=folder, env=env)
    assert lint.returncode == 0 and "AML418" not in lint.stdout, lint.stdout
    generated = amlforge("generate", "amlforge.yaml", "--check", cwd=folder, env=env)
    assert "stale" not in generated.stderr and "not using" not in generated.stderr, generated.stderr
    assert (folder / "generated").exists() is False

    # without the channels in the configuration the same lock is stale, and the hint is a command
    # that works from where lint runs (here: the parent folder)
    config = folder / ".amlforge.toml"
    config.write_text("\n".join(ln for ln in config.read_text().splitlines() if not ln.startswith("channels")) + "\n")
    stale = amlforge("lint", "--select", "AML418", folder.name, cwd=folder.parent, env=env)
    assert stale.returncode == 1
    assert "AML418 the lock of 'environment/conda.yaml' is stale: channels changed" in stale.stdout
    assert "hint: run: amlforge lock svc/environment/conda.yaml" in stale.stdout
    assert "[tool.amlforge] channels = [...]" in stale.stdout
    assert (folder.parent / "svc/environment/conda.yaml").is_file()
    note = amlforge("generate", "amlforge.yaml", "--check", cwd=folder, env=env)
    assert "conda.lock.yaml is stale (channels changed" in note.stderr
    assert "run amlforge lock environment/conda.yaml to pin it again" in note.stderr


def test_lock_of_a_spec_without_conda_files_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "svc"
    shutil.copytree(EXAMPLES / "custom-container", folder)
    spec = yaml.safe_load((folder / "amlforge.yaml").read_text())
    assert not any("conda_file" in (e or {}) for e in (spec.get("environments") or {}).values())
    result = amlforge("lock", "--check", "amlforge.yaml", cwd=folder, env=dict(os.environ))
    assert result.returncode == 2 and "malformed conda file" not in result.stderr
    assert "no environment here names a local conda file" in result.stderr
