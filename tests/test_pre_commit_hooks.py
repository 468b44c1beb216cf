"""The shipped pre-commit hooks, run by the real ``pre-commit`` on a multi-project repository.

The hook repository is a git copy of this project's working tree (the package, pyproject.toml,
README.md and .pre-commit-hooks.yaml), so the hooks tested are the shipped manifest, installed
the way pre-commit installs them (``language: python``: a virtualenv and ``pip install .`` of the
repository, from a local path and PyPI only, nothing from GitHub).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, run_cli

pytestmark = pytest.mark.slow

CLEAN = ("custom-container", "gpu-pytorch", "kubernetes", "mlflow-no-code", "sklearn-blue-green")


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def _hook_repository(dest: Path) -> str:
    """A git repository holding this project as it is in the working tree; returns its commit."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "amlforge"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in [*filter(None, listed), "pyproject.toml", "README.md", ".pre-commit-hooks.yaml"]:
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "amlforge under test", cwd=dest)
    return _git("rev-parse", "HEAD", cwd=dest)


def _pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([str(exe), "run", "--all-files"], cwd=repo, capture_output=True, text=True, env=env,
                          timeout=900)


def test_shipped_hooks_on_a_monorepo(tmp_path: Path) -> None:
    source = tmp_path / "amlforge-src"
    source.mkdir()
    rev = _hook_repository(source)
    repo = tmp_path / "mono"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    for name in CLEAN:
        shutil.copytree(EXAMPLES / name, repo / "services" / name,
                        ignore=shutil.ignore_patterns("generated", ".generated.*", "__pycache__"))
        made = run_cli("generate", f"services/{name}/amlforge.yaml", cwd=repo)
        assert made.returncode == 0, made.stdout + made.stderr
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n"
        "      - id: amlforge-lint\n      - id: amlforge-generate-check\n")
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "five projects", cwd=repo)
    home = tmp_path / "pre-commit-home"

    clean = _pre_commit(repo, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "amlforge lint" in clean.stdout and "amlforge generate --check" in clean.stdout
    assert clean.stdout.count("Passed") == 2, clean.stdout

    # a project with real problems fails the lint hook, at its own files only
    shutil.copytree(EXAMPLES / "broken", repo / "services" / "broken")
    _git("add", "-A", cwd=repo)
    broken = _pre_commit(repo, home)
    assert broken.returncode == 1
    assert "services/broken/blue.yml:13:16: error AML201" in broken.stdout
    assert "services/broken/endpoint.yml" in broken.stdout and "AML107" not in broken.stdout
    others = [line for line in broken.stdout.splitlines() if line.startswith("services/") and
              not line.startswith("services/broken/")]
    assert others and all(": info AML" in line for line in others), broken.stdout  # the clean ones stay clean
    shutil.rmtree(repo / "services" / "broken")
    _git("add", "-A", cwd=repo)

    # one spec outside the root changes: the generate-check hook fails with a command that fixes it
    spec = repo / "services" / "kubernetes" / "amlforge.yaml"
    text = spec.read_text()
    assert "max_instances: 3" in text
    spec.write_text(text.replace("max_instances: 3", "max_instances: 4", 1))
    _git("add", "-A", cwd=repo)
    stale = _pre_commit(repo, home)
    assert stale.returncode == 1
    assert "services/kubernetes/generated are stale" in stale.stdout, stale.stdout
    fix = stale.stdout.split("run: ", 1)[1].splitlines()[0]
    assert fix == "amlforge generate services/kubernetes/amlforge.yaml"
    assert run_cli(*shlex.split(fix)[1:], cwd=repo).returncode == 0
    _git("add", "-A", cwd=repo)
    again = _pre_commit(repo, home)
    assert again.returncode == 0, again.stdout + again.stderr
