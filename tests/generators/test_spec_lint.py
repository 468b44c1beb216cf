"""``amlforge lint amlforge.yaml``: the spec's az-ml YAML, rendered in memory, gets the whole
catalog, and every finding points at the spec line its value came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from tests.conftest import run_cli
from tests.generators.conftest import EXAMPLES, SHOWCASE


def edit(spec: Path, *changes: tuple[str, str]) -> list[str]:
    text = spec.read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(text)
    return text.splitlines()


def at(lines: list[str], needle: str) -> tuple[int, int]:
    """1-based line and column of the value after ``needle``."""
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return number, line.index(needle) + len(needle) + 1
    raise AssertionError(needle)


def test_findings_point_at_the_spec_lines_their_values_came_from(project: Path) -> None:
    spec = project / "amlforge.yaml"
    lines = edit(spec, ("instance_type: Standard_F4s_v2", "instance_type: Standard_DS3_v9"),
                 ("request_timeout_ms: 5000", "request_timeout_ms: 500000"),
                 ("scoring_script: score.py", "scoring_script: scor.py"),
                 ("path: model", "path: modelx"))
    result = run_cli("lint", "amlforge.yaml", "--format", "json", cwd=project)
    assert result.returncode == 1, result.stderr
    import json

    findings = json.loads(result.stdout)
    found = {(f["rule"], f["line"], f["column"]): f["message"] for f in findings if f["severity"] == "error"}
    assert set(found) == {
        ("AML201", *at(lines, "instance_type: ")),
        ("AML306", *at(lines, "request_timeout_ms: ")),
        ("AML501", *at(lines, "scoring_script: ")),
        ("AML106", *at(lines, "path: ")),
    }, found
    # paths as the spec spells them, not as the rendered YAML (../../) does
    assert found[("AML106", *at(lines, "path: "))] == "model path 'modelx' does not exist"
    assert "in the code folder 'onlinescoring'" in found[("AML501", *at(lines, "scoring_script: "))]
    assert {f["path"] for f in findings} == {"amlforge.yaml"}


def test_suppressions_and_the_spec_profile_apply(project: Path) -> None:
    spec = project / "amlforge.yaml"
    lines = edit(spec, ("instance_count: 3", "instance_count: 1"))
    assert not [f for f in lint_paths([spec]).findings if f.rule == "AML207"]  # dev: no HA rule
    lines = edit(spec, ("region: westeurope", "region: westeurope\n  profile: prod"))
    report = lint_paths([spec])
    assert [(f.rule, f.location.line) for f in report.findings if f.rule == "AML207"] == \
        [("AML207", at(lines, "instance_count: 1")[0])]
    edit(spec, ("instance_count: 1", "instance_count: 1  # amlforge: ignore[AML207] a dev copy"))
    assert not [f for f in lint_paths([spec]).findings if f.rule in ("AML207", "AML009")]


def test_a_dockerfile_environment_is_linted_with_its_build_context(tmp_path: Path) -> None:
    root = tmp_path / "showcase"
    shutil.copytree(SHOWCASE.parent, root)
    report = lint_paths([root / "amlforge.yaml"])
    assert all(Path(f.location.file).name == "amlforge.yaml" for f in report.findings)
    assert [f.rule for f in report.findings] == ["AML706"]  # as generate's self-check reports


def test_generated_files_beside_their_spec_are_linted_through_it(project: Path) -> None:
    spec = project / "amlforge.yaml"
    assert run_cli("generate", "-o", "generated", cwd=project).returncode == 0
    folder = lint_paths([project])
    assert {Path(f.location.file).name for f in folder.findings} == {"amlforge.yaml"}
    alone = lint_paths([project / "generated"])  # without their spec they are linted as they are
    assert {Path(f.location.file).parent.name for f in alone.findings} == {"azureml"}
    assert len(alone.findings) == len(folder.findings)
    spec.rename(project / "spec-moved-away.yml")
    (project / "spec-moved-away.yml").unlink()
    orphaned = lint_paths([project])  # the manifest's spec is not in the run: lint the files
    assert {Path(f.location.file).parent.name for f in orphaned.findings} == {"azureml"}


def test_a_spec_whose_inputs_are_missing_reports_them_and_stops(project: Path) -> None:
    (project / "environment" / "conda.yaml").unlink()
    result = run_cli("lint", "amlforge.yaml", cwd=project)
    assert result.returncode == 1
    assert "amlforge.yaml:13:17: error AML106 conda file 'environment/conda.yaml' does not exist" in result.stdout
    assert "Traceback" not in result.stderr
