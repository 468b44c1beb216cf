"""Bad input through the real command line: a clear located message, a hint, the documented
exit code, and never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

LOCATED = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): ", re.M)
GOOD = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: my-endpoint
model: azureml:my-model:1
environment: azureml:my-env:1
instance_type: Standard_DS3_v2
instance_count: 3
"""


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr


def _lint(tmp_path: Path, name: str, content: bytes | str, *extra: str):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    (tmp_path / ".amlforge.toml").write_text("")  # marks the project root
    return run_cli("lint", name, *extra, cwd=tmp_path)


CASES = [
    # name, content, exit code, expected line:col, words in the message, words in the hint
    # (a file that cannot be read or parsed is a finding, exit 1, as ruff reports syntax errors)
    ("malformed.yml", "name: blue\ninstance_type: [Standard_DS3_v2\n", 1, None, "invalid YAML", "hint:"),
    ("tabs.yml", "name: blue\n\tinstance_type: x\n", 1, "2:1", "invalid YAML", "tabs"),
    ("nonmapping.yml", "- a\n- b\n", 1, "1:1", "expected a mapping", "mapping"),
    ("scalar.yml", "just a string\n", 1, "1:1", "expected a mapping", "mapping"),
    ("empty.yml", "", 1, "1:1", "empty", "hint:"),
    ("binary.yml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "3:1", "binary", "hint:"),
    ("latin1.yml", b"name: caf\xe9\n", 1, "1:10", "UTF-8", "UTF-8"),
    ("unknown.yml", GOOD + "instance_cout: 3\n", 1, "8:1", "unknown field 'instance_cout'", "instance_count"),
    ("wrongtype.yml", GOOD.replace("instance_count: 3", "instance_count: three"), 1, "7:17",
     "should be a whole number", "whole number"),
    ("placeholder.yml", GOOD.replace("name: blue", "name: {{NAME}}"), 1, None, "{{NAME}}", "--var"),
]


@pytest.mark.parametrize(("name", "content", "code", "where", "message", "hint"), CASES, ids=[c[0] for c in CASES])
def test_bad_file(tmp_path: Path, name, content, code, where, message, hint) -> None:
    result = _lint(tmp_path, name, content)
    _no_traceback(result)
    out = result.stdout + result.stderr
    assert result.returncode == code, out
    m = LOCATED.search(out)
    assert m and m.group("file") == name, out
    if where:
        assert f"{m.group('line')}:{m.group('col')}" == where, out
    assert message in out
    assert hint in out


def test_alias_bomb(tmp_path: Path) -> None:
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    result = _lint(tmp_path, "bomb.yml", "\n".join(rows) + "\n")
    _no_traceback(result)
    assert result.returncode == 1
    assert "bomb.yml:" in result.stdout and "alias bomb" in result.stdout


def test_recursive_alias(tmp_path: Path) -> None:
    result = _lint(tmp_path, "loop.yml", "a: &a\n  b: *a\n")
    _no_traceback(result)
    assert result.returncode == 1
    assert "refers to itself" in result.stdout


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    big = b"name: blue\n" + b"# padding padding padding padding padding padding padding\n" * 900_000
    assert len(big) > 50_000_000
    result = _lint(tmp_path, "big.yml", big)
    _no_traceback(result)
    assert result.returncode == 1
    assert "big.yml:1:1:" in result.stdout and "MiB" in result.stdout and "hint:" in result.stdout


def test_missing_file(tmp_path: Path) -> None:
    result = run_cli("lint", "nope.yml", cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 2
    assert "nope.yml: error: no such file or directory" in result.stderr
    assert "hint:" in result.stderr


def test_directory_without_yaml(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli("lint", ".", cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 0  # nothing to lint in a folder is not a misuse: a warning
    assert "warning: no YAML files found" in result.stderr


def test_directory_with_only_unrelated_yaml(tmp_path: Path) -> None:
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {}\n")
    result = run_cli("lint", ".", cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 0
    assert "warning: no az-ml online endpoint" in result.stderr and "-v lists them" in result.stderr
    assert run_cli("lint", ".", "--format", "json", cwd=tmp_path).stdout.strip() == "[]"


def test_missing_referenced_file_and_escaping_path(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".amlforge.toml").write_text("")
    (tmp_path / "secret-model").mkdir()
    (tmp_path / "secret-model" / "m.pkl").write_bytes(b"x")
    (project / "deploy.yml").write_text(GOOD.replace("model: azureml:my-model:1", "model:\n  path: ../secret-model")
                                        + "code_configuration:\n  code: ./src\n  scoring_script: score.py\n")
    result = run_cli("lint", "deploy.yml", "--format", "json", cwd=project)
    _no_traceback(result)
    assert result.returncode == 1
    findings = {f["rule"]: f for f in json.loads(result.stdout)}
    assert findings["AML107"]["line"] == 5 and findings["AML107"]["column"] == 9
    assert findings["AML106"]["line"] == 10 and "./src" in findings["AML106"]["message"]
    assert findings["AML106"]["hint"]


def test_walked_directory_skips_non_aml_yaml_but_reports_broken_aml(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text("")
    (tmp_path / "ci.yml").write_text("on: [push]\njobs:\n  x: {runs-on: ubuntu}\n")
    (tmp_path / "helm.yaml").write_text("a: {{ .Values.x }}\n  b: [\n")  # broken, but not az-ml: skipped
    (tmp_path / "deploy.yml").write_text(GOOD)
    (tmp_path / "broken.yml").write_text("endpoint_name: x\ninstance_type: [\n")
    result = run_cli("lint", ".", cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 1  # the broken az-ml file is an error finding
    assert "broken.yml:3:1: error AML002" in result.stdout
    assert "helm.yaml" not in result.stdout and "ci.yml" not in result.stdout


@pytest.mark.parametrize("args", [
    ["lint", "--format", "xml", "."],
    ["lint", "--set", "novalue", "."],
    ["lint", "--fail-on", "fatal", "."],
    ["explain", "AML0000"],
    ["nosuchcommand"],
])
def test_bad_usage(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "d.yml").write_text(GOOD)
    result = run_cli(*args, cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip()


def test_bad_config_file(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(GOOD)
    (tmp_path / ".amlforge.toml").write_text("[tool.amlforge]\nfail_onn = 'error'\n")
    result = run_cli("lint", ".", cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 2
    assert ".amlforge.toml" in result.stderr and "fail_on" in result.stderr
