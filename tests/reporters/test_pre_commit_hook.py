"""The pre-commit hook definition at the repository root, run the way pre-commit runs it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import ROOT, run_cli
from tests.generators.conftest import EXAMPLES


def test_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "amlforge-lint")
    assert hook["entry"] == "amlforge lint --skip-unknown --force-exclude" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    assert files.search("deploy/blue.yml") and files.search("endpoint.yaml") and not files.search("score.py")


def test_hook_entry_on_a_mixed_change(tmp_path: Path) -> None:
    """pre-commit passes every changed YAML file: conda files and workflows must not fail the hook."""
    (tmp_path / ".amlforge.toml").write_text("")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "conda.yaml").write_text("name: env\ndependencies:\n  - python=3.11\n")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = next(h for h in hooks if h["id"] == "amlforge-lint")["entry"].split()[1:]
    result = run_cli(*entry, ".github/ci.yml", "conda.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generate_check_hook_on_changed_specs(tmp_path: Path) -> None:
    """pre-commit passes the changed amlforge.yaml files; each is checked against its own folder."""
    import shutil

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "amlforge-generate-check")
    files = re.compile(hook["files"])
    assert files.search("amlforge.yaml") and files.search("svc/a/amlforge.yml")
    assert not files.search("my-amlforge.yaml") and not files.search("deploy/blue.yml")
    (tmp_path / ".git").mkdir()
    for name in ("a", "b"):
        shutil.copytree(EXAMPLES / "sklearn-blue-green", tmp_path / name, ignore=shutil.ignore_patterns("*.yml"))
        assert run_cli("generate", f"{name}/amlforge.yaml", cwd=tmp_path).returncode == 0  # into {name}/generated
    entry = hook["entry"].split()[1:]
    clean = run_cli(*entry, "a/amlforge.yaml", "b/amlforge.yaml", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    spec = tmp_path / "b" / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_count: 3", "instance_count: 2", 1))
    stale = run_cli(*entry, "a/amlforge.yaml", "b/amlforge.yaml", cwd=tmp_path)
    assert stale.returncode == 1
    assert "--- a/azureml/sklearn-iris-bg.blue.deployment.yml" in stale.stdout
    assert "b/generated are stale" in stale.stderr and "a/generated are up to date" in stale.stderr
    # the hint is a command that works from here, with -o taken from the spec's folder
    assert "run: amlforge generate b/amlforge.yaml\n" in stale.stderr
    assert run_cli("generate", "b/amlforge.yaml", cwd=tmp_path).returncode == 0
    assert run_cli(*entry, "a/amlforge.yaml", "b/amlforge.yaml", cwd=tmp_path).returncode == 0


def test_generate_output_is_taken_from_the_spec_folder(tmp_path: Path) -> None:
    """One meaning for -o: one spec or several, from any directory, the files land in the same place."""
    import shutil

    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLES / "sklearn-blue-green", tmp_path / "svc a", ignore=shutil.ignore_patterns("*.yml"))
    assert run_cli("generate", "svc a/amlforge.yaml", "-o", "deploy", cwd=tmp_path).returncode == 0
    assert (tmp_path / "svc a" / "deploy" / "azureml").is_dir() and not (tmp_path / "deploy").exists()
    inside = run_cli("generate", "amlforge.yaml", "-o", "deploy", "--check", cwd=tmp_path / "svc a")
    assert inside.returncode == 0, inside.stderr
    spec = tmp_path / "svc a" / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_count: 3", "instance_count: 2", 1))
    stale = run_cli("generate", "svc a/amlforge.yaml", "-o", "deploy", "--only", "yaml", "--check", cwd=tmp_path)
    assert stale.returncode == 1
    hint = stale.stderr.split("run: ", 1)[1].strip()
    assert hint == "amlforge generate 'svc a/amlforge.yaml' -o deploy --only yaml"
    import shlex

    assert run_cli(*shlex.split(hint)[1:], cwd=tmp_path).returncode == 0
    assert run_cli("generate", "svc a/amlforge.yaml", "-o", "deploy", "--only", "yaml", "--check",
                   cwd=tmp_path).returncode == 0
    absolute = run_cli("generate", "svc a/amlforge.yaml", "svc a/amlforge.yaml", "-o", str(tmp_path / "x"),
                       cwd=tmp_path)
    assert absolute.returncode == 2 and "several specs" in absolute.stderr
