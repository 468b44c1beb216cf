"""Pack rules are ordinary rules of a run: configuration, suppressions, baselines and reporters treat them
like catalog rules, and the global catalog never holds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from amlforge.policies.engine import lint_paths
from amlforge.policies.registry import REGISTRY, load_catalog
from amlforge.reporters import FORMATS, render
from tests.conftest import ROOT, run_cli

PACK = """\
pack: contoso
docs: https://wiki.contoso.example/ml-policies
rules:
  - id: AML901
    name: unapproved-instance-type
    severity: warning
    select: {resource: deployment, kind: managed}
    assert: {field: instance_type, in: [Standard_F8s_v2]}
    message: "instance_type {value} of {name} is not on the approved list"
    hint: "use Standard_F8s_v2"
"""

BLUE = """\
name: blue
endpoint_name: shop-ep
model: azureml:m:1
environment: azureml:e:1
instance_type: Standard_F4s_v2
instance_count: 3
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\npolicies = ["pack.yaml"]\nselect = ["AML9"]\n')
    (tmp_path / "pack.yaml").write_text(PACK)
    (tmp_path / "blue.yml").write_text(BLUE)
    return tmp_path


def ids(report) -> list[str]:
    return [f.rule for f in report.findings]


def test_global_catalog_never_holds_pack_rules(project: Path, tmp_path: Path) -> None:
    size = len(load_catalog())
    assert ids(lint_paths([project])) == ["AML901"]
    # another run in the same process with another pack that reuses the ID: no clash
    other = tmp_path / "other"
    other.mkdir()
    (other / "pack.yaml").write_text(PACK.replace("unapproved-instance-type", "small-instance").replace(
        "in: [Standard_F8s_v2]", "in: [Standard_F4s_v2]"))
    (other / ".amlforge.toml").write_text('[tool.amlforge]\npolicies = ["pack.yaml"]\nselect = ["AML9"]\n')
    (other / "blue.yml").write_text(BLUE.replace("Standard_F4s_v2", "Standard_F8s_v2"))
    report = lint_paths([other])
    assert [(f.rule, f.name) for f in report.findings] == [("AML901", "small-instance")]
    assert len(REGISTRY) == size and REGISTRY.get("AML901") is None and REGISTRY.get("small-instance") is None
    assert report.registry is not None and report.registry.get("AML901").name == "small-instance"


def test_select_ignore_and_severity(project: Path) -> None:
    from amlforge.errors import UserInputError

    # select = ["AML9"] less the pack's only rule selects nothing: an error, not "all checks passed"
    for ignored in ("AML901", "unapproved-instance-type"):
        with pytest.raises(UserInputError, match="no rule is selected"):
            lint_paths([project], ignore=[ignored])
    assert ids(lint_paths([project], select=["AML6"])) == []
    (project / ".amlforge.toml").write_text('[tool.amlforge]\npolicies = ["pack.yaml"]\nselect = ["AML9"]\n'
                                            '[tool.amlforge.severity]\nunapproved-instance-type = "error"\n')
    report = lint_paths([project])
    assert report.findings[0].severity.value == "error" and report.exit_code == 1
    assert report.rules_run == 1


def test_suppressions_and_unused_ones(project: Path) -> None:
    (project / "blue.yml").write_text(BLUE.replace("instance_type: Standard_F4s_v2",
                                                   "instance_type: Standard_F4s_v2  # amlforge: ignore[AML901]"))
    report = lint_paths([project], select=["AML9", "AML009"])
    assert ids(report) == [] and report.suppressed == 1
    (project / "blue.yml").write_text("# amlforge: ignore-file[unapproved-instance-type]\n" + BLUE)
    assert ids(lint_paths([project])) == []
    (project / "blue.yml").write_text(BLUE.replace("Standard_F4s_v2", "Standard_F8s_v2")
                                      + "# amlforge: ignore[AML901]\n")
    assert ids(lint_paths([project], select=["AML9", "AML009"])) == ["AML009"]


def test_baseline_accepts_pack_findings(project: Path) -> None:
    result = run_cli("lint", ".", "--write-baseline", "baseline.json", cwd=project)
    assert result.returncode == 0
    assert json.loads((project / "baseline.json").read_text())["findings"][0]["rule"] == "AML901"
    result = run_cli("lint", ".", "--baseline", "baseline.json", cwd=project)
    assert result.returncode == 0 and "All checks passed" in result.stdout


def test_every_reporter_renders_pack_findings(project: Path) -> None:
    report = lint_paths([project])
    for fmt in FORMATS:
        assert "AML901" in render(report, fmt), fmt
    sarif = json.loads(render(report, "sarif"))
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    assert not list(Draft4Validator(schema).iter_errors(sarif))
    assert json.loads(render(report, "json"))[0]["message"] == (
        "instance_type Standard_F4s_v2 of blue is not on the approved list")


def test_cli_policy_option_adds_to_the_configuration(project: Path) -> None:
    (project / "second.yaml").write_text(PACK.replace("contoso", "second").replace("AML901", "AML902").replace(
        "unapproved-instance-type", "too-few-instances").replace("{field: instance_type, in: [Standard_F8s_v2]}",
                                                                  "{field: instance_count, min: 5}"))
    result = run_cli("lint", "--policy", "second.yaml", "--format", "json", ".", cwd=project)
    assert result.returncode == 1
    assert [f["rule"] for f in json.loads(result.stdout)] == ["AML901", "AML902"]


def test_pack_rule_docs(project: Path) -> None:
    from amlforge.policies.packs import load_pack, pack_rules

    [rule] = pack_rules(load_pack(str(project / "pack.yaml")))
    assert rule.area == "user" and rule.options["docs"] == "https://wiki.contoso.example/ml-policies"
    assert "## What it does" in rule.doc and "https://wiki.contoso.example/ml-policies" in rule.doc


def test_rules_and_explain_show_the_packs_of_the_project(project: Path) -> None:
    listing = run_cli("rules", "--format", "json", "--area", "user", cwd=project)
    assert listing.returncode == 0, listing.stderr
    assert [(r["id"], r["name"]) for r in json.loads(listing.stdout)] == [("AML901", "unapproved-instance-type")]
    explained = run_cli("explain", "AML901", cwd=project)
    assert explained.returncode == 0 and "unapproved-instance-type" in explained.stdout
    assert "policy pack" in explained.stdout
    builtin = run_cli("rules", "--policy", "builtin:production", cwd=project)
    assert "AML990" in builtin.stdout and "AML901" in builtin.stdout
    elsewhere = run_cli("explain", "AML901", cwd=project.parent)  # no configuration there
    assert elsewhere.returncode == 2 and "pass the pack with --policy" in elsewhere.stderr
    bad = run_cli("rules", "--policy", "builtin:nope", cwd=project)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
