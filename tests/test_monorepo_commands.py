"""Issue 14, item 1: every command that lints behaves like ruff in a monorepo, as plain
``amlforge lint PATHS`` does: each file with the configuration and project root nearest to it,
whatever the order of the paths. Here: ``lint --fix``, ``lint --diff``, standard input
(``lint - --stdin-filename``), ``quota`` and ``review`` (the language server: tests/server).

The monorepo: a git repository with two sibling projects ``a/`` and ``b/``, each with its own
``.amlforge.toml`` and a deployment whose code folder (``./src``) is inside its own project.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: {endpoint}
model: azureml:m:1
environment: azureml:e:1
code_configuration:
  code: ./src
  scoring_script: score.py
instance_type: Standard_DS3_v9
instance_count: {count}
"""
FIXED = "instance_type: Standard_DS3_v2\n"
SCORE = "def init():\n    pass\n\n\ndef run(raw):\n    return raw\n"


def _project(folder: Path, config: str, endpoint: str, count: int = 1) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "score.py").write_text(SCORE)
    (folder / ".amlforge.toml").write_text(config)
    (folder / "blue.yml").write_text(DEPLOYMENT.format(endpoint=endpoint, count=count))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """a/ fixes and reports the SKU typo (AML201); b/ does not look at it, but reports AML107."""
    (tmp_path / ".git").mkdir()
    _project(tmp_path / "a", '[tool.amlforge]\nselect = ["AML201", "AML107"]\n', "a-endpoint")
    _project(tmp_path / "b", '[tool.amlforge]\nselect = ["AML107"]\n', "b-endpoint")
    return tmp_path


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_fix_applies_each_projects_configuration_in_any_order(repo: Path, order: tuple[str, str]) -> None:
    b_before = (repo / "b" / "blue.yml").read_text()
    result = run_cli("lint", "--fix", *order, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert FIXED in (repo / "a" / "blue.yml").read_text()  # a/ selects AML201: fixed
    assert (repo / "b" / "blue.yml").read_text() == b_before  # b/ does not: left alone
    assert "AML107" not in result.stdout  # each code folder is inside its own project
    assert "Fixed 1 finding." in result.stdout


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_diff_shows_the_fixes_of_each_projects_configuration(repo: Path, order: tuple[str, str]) -> None:
    result = run_cli("lint", "--diff", *order, cwd=repo)
    assert result.returncode == 1  # something to fix
    assert result.stdout.startswith("--- a/a/blue.yml\n+++ b/a/blue.yml\n")
    assert "b/blue.yml" not in result.stdout.replace("b/a/blue.yml", "")
    assert "+" + FIXED in result.stdout
    assert "Would fix 1 finding." in result.stderr


def test_stdin_takes_the_configuration_of_the_stdin_filename(repo: Path) -> None:
    """Standard input is linted as the file it names would be: its folder's configuration (also
    one inherited with ``extend``, whose relative paths start at the file that sets them)."""
    text = (repo / "a" / "blue.yml").read_text()
    for cwd, name in ((repo, "b/blue.yml"), (repo / "a", "../b/blue.yml"), (repo / "b", "blue.yml")):
        result = run_cli("lint", "-", "--stdin-filename", name, cwd=cwd, input=text)
        assert result.returncode == 0 and "AML201" not in result.stdout, (cwd, result.stdout + result.stderr)
        result = run_cli("lint", "-", "--stdin-filename", name.replace("b/", "a/") if "b/" in name else "../a/blue.yml",
                         cwd=cwd, input=text)
        assert result.returncode == 1 and "AML201" in result.stdout, (cwd, result.stdout + result.stderr)
    # a/ inherits the quota file of the repository's configuration: quota.yaml next to that file
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nquota = "quota.yaml"\n')
    (repo / "quota.yaml").write_text("families:\n  standardDSv2Family: {limit: 4, usage: 0}\n")
    (repo / "a" / ".amlforge.toml").write_text('[tool.amlforge]\nextend = "../.amlforge.toml"\nselect = ["AML208"]\n')
    fixed = text.replace("Standard_DS3_v9", "Standard_DS3_v2")  # 2 x 4 vCPUs with the reserve: over 4
    (repo / "a" / "blue.yml").write_text(fixed)
    on_disk = run_cli("lint", "a/blue.yml", cwd=repo)
    assert on_disk.returncode == 1 and "AML208" in on_disk.stdout, on_disk.stdout + on_disk.stderr
    (repo / "a" / "blue.yml").write_text(text)
    piped = run_cli("lint", "-", "--stdin-filename", "a/blue.yml", cwd=repo, input=fixed)
    assert piped.returncode == 1 and piped.stdout == on_disk.stdout, piped.stdout + piped.stderr
    diff = run_cli("lint", "--diff", "a", cwd=repo)  # the same configuration for --fix and --diff
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout + diff.stderr


def test_stdin_force_exclude_follows_the_files_configuration(repo: Path) -> None:
    """With --force-exclude (pre-commit, editors) a stdin filename that its own configuration
    excludes is not linted, as ruff does; --fix then prints the text unchanged."""
    (repo / "b" / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy/"]\n')
    text = DEPLOYMENT.format(endpoint="b-endpoint", count=1)
    name = "b/legacy/blue.yml"
    linted = run_cli("lint", "-", "--stdin-filename", name, cwd=repo, input=text)
    assert linted.returncode == 1 and "AML201" in linted.stdout  # named: linted
    skipped = run_cli("lint", "-", "--stdin-filename", name, "--force-exclude", cwd=repo, input=text)
    assert skipped.returncode == 0 and "AML201" not in skipped.stdout, skipped.stdout + skipped.stderr
    fixed = run_cli("lint", "-", "--stdin-filename", name, "--force-exclude", "--fix", cwd=repo, input=text)
    assert fixed.returncode == 0 and fixed.stdout == text, fixed.stdout + fixed.stderr


def _quota_repo(root: Path) -> Path:
    """a/ and b/ name their own quota file; each needs 8 vCPUs of standardDSv2Family (2 x 4)."""
    (root / ".git").mkdir()
    for name, limit in (("a", 100), ("b", 4)):
        folder = _project(root / name, '[tool.amlforge]\nquota = "quota.yaml"\n', f"{name}-endpoint")
        (folder / "blue.yml").write_text((folder / "blue.yml").read_text().replace("Standard_DS3_v9", "Standard_DS3_v2"))
        (folder / "quota.yaml").write_text(f"families:\n  standardDSv2Family: {{limit: {limit}, usage: 0}}\n")
    return root


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_quota_gives_each_project_its_own_quota_file(tmp_path: Path, order: tuple[str, str]) -> None:
    repo = _quota_repo(tmp_path)
    result = run_cli("quota", *order, "--format", "json", cwd=repo)
    assert result.returncode == 1, result.stdout + result.stderr  # b/ is over its quota of 4
    data = json.loads(result.stdout)
    assert data["over_quota"] is True
    tables = {tuple(t["projects"]): t for t in data["tables"]}
    assert set(tables) == {("a",), ("b",)}
    for name, available, over in (("a", 100, False), ("b", 4, True)):
        (family,) = tables[(name,)]["families"]
        assert (family["reserved_vcpus"], family["limit"], tables[(name,)]["over_quota"]) == (8, available, over)
    assert tables[("a",)]["source"].endswith("quota.yaml")
    text = run_cli("quota", *order, cwd=repo)
    assert text.stdout.index("Projects: a\n") < text.stdout.index("Projects: b\n")  # sorted, not in argument order
    assert result.stderr == ""  # no load problem: each ./src is inside its own project
    # one quota file for everything (--quota, or --live): one table, the two projects summed
    shared = run_cli("quota", *order, "--quota", "a/quota.yaml", "--format", "json", cwd=repo)
    assert shared.returncode == 0, shared.stdout + shared.stderr
    (family,) = json.loads(shared.stdout)["families"]
    assert family["reserved_vcpus"] == 16 and len(family["deployments"]) == 2


def test_quota_of_one_project_prints_one_table_as_before(tmp_path: Path) -> None:
    repo = _quota_repo(tmp_path)
    result = run_cli("quota", "b", "--format", "json", cwd=repo)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert "tables" not in data and data["over_quota"] is True
    assert not run_cli("quota", "b", cwd=repo).stdout.startswith("Projects:")


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_review_compares_each_project_with_its_own_configuration(tmp_path: Path, order: tuple[str, str]) -> None:
    from tests.review._repo import Repo

    repo = Repo(tmp_path / "mono")
    for name, select in (("a", '["AML201", "AML107"]'), ("b", '["AML107"]')):
        repo.write(f"{name}/.amlforge.toml", f"[tool.amlforge]\nselect = {select}\n")
        repo.write(f"{name}/src/score.py", SCORE)
        repo.write(f"{name}/blue.yml", DEPLOYMENT.format(endpoint=f"{name}-endpoint", count=1)
                   .replace("Standard_DS3_v9", "Standard_DS3_v2"))
    repo.commit("two projects")
    for name in ("a", "b"):  # the same SKU typo in both
        repo.write(f"{name}/blue.yml", DEPLOYMENT.format(endpoint=f"{name}-endpoint", count=1))
    result = run_cli("review", "--base", "main", *order, "--format", "json", cwd=repo.path)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    # a/ selects AML201: new there; b/ does not look at it; no AML107: each ./src is in its own project
    assert [(f["rule"], f["path"]) for f in data["new"]] == [("AML201", "a/blue.yml")]
    assert data["fixed"] == [] and data["risky"] == []
    # b/ alone: nothing new at its fail level
    alone = run_cli("review", "--base", "main", "b", "--format", "json", cwd=repo.path)
    assert alone.returncode == 0 and json.loads(alone.stdout)["new"] == [], alone.stdout + alone.stderr
