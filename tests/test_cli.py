"""The lint command line end to end: formats, exit codes, configuration, suppressions, baselines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

DEP = """\
name: blue
endpoint_name: my-endpoint
model: azureml:my-model:1
environment: azureml:my-env:1
instance_type: Standard_D4as_v4
instance_count: 3
instance_count: 3
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # only the input, spec and naming areas: the other areas have their own fixtures
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nselect = ["AML0", "AML1", "AML6"]\n')
    (tmp_path / "blue.yml").write_text(DEP)
    return tmp_path


def test_text_format(project: Path) -> None:
    result = run_cli("lint", "blue.yml", cwd=project)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(r"blue\.yml:7:1: error AML105 'instance_count' is given twice \(first on line 6\); .*", first)
    assert result.stdout.splitlines()[1].startswith("  hint: ")
    assert result.stdout.rstrip().splitlines()[-1].startswith("Found 1 error in 1 file")


def test_json_format(project: Path) -> None:
    result = run_cli("lint", "--format", "json", "blue.yml", cwd=project)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)
    assert set(finding) >= {"rule", "severity", "path", "line", "column", "message", "hint", "prevents"}
    assert (finding["rule"], finding["path"], finding["line"], finding["column"]) == ("AML105", "blue.yml", 7, 1)
    assert finding["prevents"] == ["BadArgument"]


def test_clean_run_exits_0(project: Path) -> None:
    (project / "blue.yml").write_text(DEP.rsplit("instance_count: 3\n", 1)[0])
    result = run_cli("lint", ".", cwd=project)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All checks passed")


def test_fail_on_and_select_and_ignore(project: Path) -> None:
    (project / "blue.yml").write_text(DEP.rsplit("instance_count: 3\n", 1)[0].replace("name: blue\n", ""))
    assert run_cli("lint", ".", cwd=project).returncode == 1  # AML109 is a warning
    assert run_cli("lint", "--fail-on", "error", ".", cwd=project).returncode == 0
    assert run_cli("lint", "--ignore", "AML109", ".", cwd=project).returncode == 0
    assert run_cli("lint", "--ignore", "deploy-time-value", ".", cwd=project).returncode == 0
    assert run_cli("lint", "--select", "AML6", ".", cwd=project).returncode == 0
    assert run_cli("lint", "--set", "name=blue", ".", cwd=project).returncode == 0


def test_config_file_severity_and_profile(project: Path) -> None:
    (project / ".amlforge.toml").write_text('[tool.amlforge]\nselect = ["AML1"]\nfail_on = "error"\n'
                                            '[tool.amlforge.severity]\nAML105 = "warning"\n')
    result = run_cli("lint", "--format", "json", ".", cwd=project)
    assert result.returncode == 0
    assert json.loads(result.stdout)[0]["severity"] == "warning"


def test_inline_suppression(project: Path) -> None:
    (project / "blue.yml").write_text(DEP.replace("instance_count: 3\ninstance_count: 3\n",
                                                  "instance_count: 3\ninstance_count: 3  # amlforge: ignore[AML105]\n"))
    result = run_cli("lint", ".", cwd=project)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All checks passed") and "(1 suppressed)" in result.stdout
    (project / "blue.yml").write_text("# amlforge: ignore-file[duplicate-key]\n" + DEP)
    assert run_cli("lint", ".", cwd=project).returncode == 0


def test_baseline_accepts_existing_findings_only(project: Path) -> None:
    result = run_cli("lint", ".", "--write-baseline", "baseline.json", cwd=project)
    assert result.returncode == 0
    data = json.loads((project / "baseline.json").read_text())
    assert data["findings"][0]["rule"] == "AML105"
    assert run_cli("lint", ".", "--baseline", "baseline.json", cwd=project).returncode == 0
    (project / "blue.yml").write_text(DEP + "name: green\n")  # a new duplicate
    result = run_cli("lint", ".", "--baseline", "baseline.json", cwd=project)
    assert result.returncode == 1
    assert "'name' is given twice" in result.stdout and "1 in baseline" in result.stdout


def test_output_file_is_written(project: Path) -> None:
    result = run_cli("lint", "--format", "json", "-o", "out/report.json", ".", cwd=project)
    assert result.returncode == 1
    assert json.loads((project / "out" / "report.json").read_text())[0]["rule"] == "AML105"
    assert not list((project / "out").glob(".*tmp"))


def test_rules_and_explain() -> None:
    listing = run_cli("rules", "--format", "json")
    assert listing.returncode == 0
    rules = json.loads(listing.stdout)
    assert {"id", "name", "severity", "prevents"} <= set(rules[0])
    explain = run_cli("explain", "duplicate-key")
    assert explain.returncode == 0 and "#### What it does" in explain.stdout and "AML105" in explain.stdout


def test_help_and_version() -> None:
    assert run_cli("--help").returncode == 0
    assert "lint" in run_cli("--help").stdout
    assert run_cli("--version").stdout.strip().endswith("0.1.0")


def test_skip_unknown_for_pre_commit(project: Path) -> None:
    (project / "conda.yaml").write_text("name: env\ndependencies:\n  - python=3.11\n")
    (project / "ci.yml").write_text("on: push\n")
    named = run_cli("lint", "conda.yaml", "ci.yml", cwd=project)  # named: each is an AML005 finding
    assert named.returncode == 1 and named.stdout.count("AML005") == 2
    result = run_cli("lint", "--skip-unknown", "conda.yaml", "ci.yml", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_cli("lint", "--skip-unknown", "conda.yaml", "blue.yml", cwd=project)
    assert result.returncode == 1 and "AML105" in result.stdout
