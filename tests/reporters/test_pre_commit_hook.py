"""The pre-commit hook definition at the repository root, run the way pre-commit runs it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import ROOT, run_cli


def test_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "amlforge-lint")
    assert hook["entry"] == "amlforge lint --skip-unknown" and hook["language"] == "python"
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
    entry = hooks[0]["entry"].split()[1:]
    result = run_cli(*entry, ".github/ci.yml", "conda.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
