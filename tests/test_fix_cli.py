"""`amlforge lint --fix / --diff / --unsafe-fixes` and `amlforge lint - --stdin-filename`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: my-endpoint
model: azureml:m:1
environment: azureml:e:1
instance_type: Standard_DS3_v9   # a typo
instance_count: 3
"""
ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: my-endpoint
auth_mode: key
traffic:
  blue: 70
  green: 20
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nselect = ["AML201", "AML301"]\n')
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    (tmp_path / "endpoint.yml").write_text(ENDPOINT)
    return tmp_path


def test_text_output_marks_fixable_findings(project: Path) -> None:
    result = run_cli("lint", ".", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("blue.yml:6:16: error AML201 [*] instance_type 'Standard_DS3_v9'")
    assert lines[2].startswith("endpoint.yml:4:1: error AML301 traffic sums to 90")  # unsafe: not marked
    assert lines[-1] == "[*] 1 fixable with --fix (1 more with --unsafe-fixes)."
    shown = run_cli("lint", ".", "--unsafe-fixes", cwd=project).stdout.splitlines()
    assert shown[2].startswith("endpoint.yml:4:1: error AML301 [*] traffic")
    assert shown[-1] == "[*] 2 fixable with --fix --unsafe-fixes."


def test_diff_prints_without_writing_and_exits_1(project: Path) -> None:
    result = run_cli("lint", ".", "--diff", cwd=project)
    assert result.returncode == 1
    assert result.stdout == (
        "--- a/blue.yml\n+++ b/blue.yml\n@@ -3,5 +3,5 @@\n endpoint_name: my-endpoint\n model: azureml:m:1\n"
        " environment: azureml:e:1\n-instance_type: Standard_DS3_v9   # a typo\n"
        "+instance_type: Standard_DS3_v2   # a typo\n instance_count: 3\n")
    assert "Would fix 1 finding." in result.stderr
    assert (project / "blue.yml").read_text() == DEPLOYMENT
    unsafe = run_cli("lint", ".", "--diff", "--unsafe-fixes", cwd=project)
    assert "-  green: 20\n+  green: 30\n" in unsafe.stdout


def test_fix_writes_and_a_second_run_finds_nothing_to_fix(project: Path) -> None:
    result = run_cli("lint", ".", "--fix", cwd=project)
    assert (project / "blue.yml").read_text() == DEPLOYMENT.replace("Standard_DS3_v9", "Standard_DS3_v2")
    assert (project / "endpoint.yml").read_text() == ENDPOINT  # unsafe: left alone
    assert "Fixed 1 finding." in result.stdout
    assert result.returncode == 1  # AML301 remains
    again = run_cli("lint", ".", "--diff", cwd=project)
    assert again.returncode == 0 and again.stdout == ""
    run_cli("lint", ".", "--fix", "--unsafe-fixes", cwd=project)
    assert "  green: 30\n" in (project / "endpoint.yml").read_text()
    clean = run_cli("lint", ".", "--fix", "--unsafe-fixes", cwd=project)
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.startswith("All checks passed")


def test_stdin_lints_the_text_as_that_file(project: Path) -> None:
    text = DEPLOYMENT.replace("instance_type", "instance_typ")
    result = run_cli("lint", "-", "--stdin-filename", "blue.yml", "--select", "AML101", cwd=project, input=text)
    assert result.returncode == 1
    assert result.stdout.startswith("blue.yml:6:1: error AML101 [*] unknown field 'instance_typ'")
    assert (project / "blue.yml").read_text() == DEPLOYMENT  # the disk is not read for it, nor written


def test_stdin_fix_prints_the_fixed_text(project: Path) -> None:
    text = DEPLOYMENT.replace("instance_type", "instance_typ")
    result = run_cli("lint", "-", "--stdin-filename", "blue.yml", "--fix", "--select", "AML101,AML201", cwd=project,
                     input=text)
    # two passes: the key is renamed, then the SKU typo of the now-known field is fixed
    assert result.stdout == DEPLOYMENT.replace("Standard_DS3_v9", "Standard_DS3_v2")
    assert "Fixed 2 findings." in result.stderr
    assert result.returncode == 0
    assert (project / "blue.yml").read_text() == DEPLOYMENT


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("-",), "a: 1\n", "needs --stdin-filename"),
    (("-", "other.yml", "--stdin-filename", "blue.yml"), "a: 1\n", "no other PATH"),
    (("-", "--stdin-filename", "blue.yml"), "name: blue\x00", "NUL bytes"),
])
def test_stdin_usage_errors_exit_2(project: Path, args: tuple[str, ...], stdin: str, message: str) -> None:
    result = run_cli("lint", *args, cwd=project, input=stdin)
    assert result.returncode == 2
    assert message in result.stderr


def test_json_findings_carry_their_fix(project: Path) -> None:
    import json

    result = run_cli("lint", ".", "--format", "json", cwd=project)
    by_rule = {f["rule"]: f for f in json.loads(result.stdout)}
    assert by_rule["AML201"]["fix"] == {
        "title": "Replace 'Standard_DS3_v9' with 'Standard_DS3_v2'", "applicability": "safe",
        "edits": [{"path": "blue.yml", "line": 6, "column": 16, "end_line": 6, "end_column": 31,
                   "text": "Standard_DS3_v2"}]}
    assert by_rule["AML301"]["fix"]["applicability"] == "unsafe"
