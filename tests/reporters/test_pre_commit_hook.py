"""The pre-commit hook definition at the repository root."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT


def test_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "amlforge-lint")
    assert hook["entry"] == "amlforge lint" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
    assert files.search("deploy/blue.yml") and files.search("endpoint.yaml") and not files.search("score.py")
    for path in ("environment/conda.yaml", ".github/workflows/ci.yml", ".pre-commit-config.yaml"):
        assert exclude.search(path), path
    for path in ("deploy/blue.yml", "env/environment.yml"):
        assert not exclude.search(path), path
