"""The ARM reader: generated templates read back as the az-ml YAML of the same spec does, and
hand-written templates (child resources, nested deployments, copy loops, parameters files,
expressions) become located documents; bad input is a located problem, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from amlforge.generators.pipeline import render_files
from amlforge.generators.inputs import read_inputs
from amlforge.specs.project_spec import load_spec
from tests.generators.conftest import SPEC_IDS, SPECS
from tests.readers.roundtrip import canonical, read_back


def write_rendered(spec_path: Path, out: Path) -> dict[str, str]:
    files = render_files(read_inputs(load_spec(spec_path), out))
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return files


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_generated_arm_reads_back_as_the_generated_yaml(spec_path: Path, tmp_path: Path) -> None:
    root = tmp_path / spec_path.parent.name
    shutil.copytree(spec_path.parent, root)
    out = root / "generated"
    write_rendered(root / spec_path.name, out)
    from_yaml, yaml_problems = read_back([out / "azureml"])
    from_arm, arm_problems = read_back([out / "arm" / "azuredeploy.json"])
    assert arm_problems == []
    assert {d.reader for d in from_arm.documents} == {"arm"}
    assert canonical(from_arm) == canonical(from_yaml)
    assert from_arm.endpoints and from_arm.deployments


def test_startup_probe_is_read_from_arm(tmp_path: Path) -> None:
    from tests.generators.conftest import SHOWCASE

    shutil.copytree(SHOWCASE.parent, tmp_path / "s")
    write_rendered(tmp_path / "s" / "amlforge.yaml", tmp_path / "s" / "out")
    project, _ = read_back([tmp_path / "s" / "out" / "arm" / "azuredeploy.json"])
    blue = next(d for d in project.deployments if d.spec.name == "blue")
    assert blue.spec.startup_probe is not None
    assert (blue.spec.startup_probe.period, blue.spec.startup_probe.failure_threshold) == (5, 60)
    loc = blue.at("startup_probe", "failure_threshold").location()
    text = (tmp_path / "s" / "out" / "arm" / "azuredeploy.json").read_text().splitlines()
    assert text[loc.line - 1][loc.column - 1:].startswith("60")


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arm"


def _findings(*paths: Path, **options: Any) -> list[tuple[str, int, int]]:
    from amlforge.policies.engine import lint_paths

    report = lint_paths(list(paths), **options)
    return [(f.rule, f.location.line, f.location.column) for f in report.findings]


def test_hand_written_template_child_copy_nested_and_parameters_file() -> None:
    project, problems = read_back([FIXTURES / "endpoint.json"])
    assert problems == []
    names = sorted((d.spec.endpoint_name, d.spec.name) for d in project.deployments)
    # a child resource, and a copy loop of two (count from the parameter's default)
    assert names == [("fraud-ep", "blue"), ("fraud-ep", "green0"), ("fraud-ep", "green1")]
    blue = next(d for d in project.deployments if d.spec.name == "blue")
    assert blue.spec.instance_count == 1  # the sibling endpoint.parameters.json
    assert blue.spec.instance_type == "Standard_DS3_v2"  # the parameter's defaultValue
    assert blue.spec.request_settings.request_timeout_ms == 999_000
    assert blue.spec.environment == "azureml:fraud-env:3"  # resourceId() through a variable
    assert blue.doc.source.is_unknown(("environment_variables", "KEY"))  # listKeys()
    green1 = next(d for d in project.deployments if d.spec.name == "green1")
    assert green1.doc.source.is_unknown(("instance_type",))  # reference(): never guessed
    (env,) = project.environments  # declared inside a nested deployment with inner scope
    assert env.spec.name == "fraud-env" and env.spec.image.endswith(":latest")


def test_findings_point_at_the_template() -> None:
    found = _findings(FIXTURES / "endpoint.json")
    text = (FIXTURES / "endpoint.json").read_text().splitlines()
    by_rule = {rule: (line, col) for rule, line, col in found}
    assert {"AML301", "AML306", "AML201", "AML402", "AML711"} <= set(by_rule)
    line, col = by_rule["AML306"]
    assert text[line - 1][col - 1:].startswith('"PT999S"')
    line, col = by_rule["AML201"]  # the copy loop's first iteration: if(equals(copyIndex(), 0), ...)
    assert text[line - 1][col - 1:].startswith('"[if(equals(copyIndex(), 0)')


def test_parameters_option_replaces_the_sibling_file() -> None:
    project, problems = read_back([FIXTURES / "endpoint.json"], parameters=FIXTURES / "prod.parameters.json")
    assert problems == []
    blue = next(d for d in project.deployments if d.spec.name == "blue")
    assert (blue.spec.instance_count, blue.spec.instance_type) == (3, "Standard_DS4_v2")


def test_a_parameters_file_alone_and_other_json_are_not_templates(tmp_path: Path) -> None:
    (tmp_path / "sample-request.json").write_text('{"data": [[1, 2]]}')
    shutil.copy(FIXTURES / "endpoint.parameters.json", tmp_path)
    (tmp_path / "blue.yml").write_text((Path(__file__).resolve().parents[2] / "examples" / "broken" / "blue.yml").read_text())
    project, problems = read_back([tmp_path])
    assert [d.reader for d in project.documents] == ["azml-yaml"]


BAD = {
    "malformed": ('{\n  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\n'
                  '  "resources": [ { "type": "x", } ]\n}\n', "AML002", (3, 33), "invalid JSON"),
    "single-quotes": ("{'$schema': 'deploymentTemplate.json'}", "AML002", (1, 2), "double-quoted key"),
    "truncated": ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": [',
                  "AML002", (1, 110), "end of file"),
    "deep": ('{"$schema": "deploymentTemplate.json", "x": ' + "[" * 200 + "]" * 200 + "}", "AML003", None, "nests deeper"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_json_is_a_located_problem(case: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    text, code, where, words = BAD[case]
    (tmp_path / "t.json").write_text(text)
    result = run_cli("lint", "t.json", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # a file that does not parse is a finding
    assert "Traceback" not in result.stderr
    assert code in result.stdout and words in result.stdout, result.stdout
    if where is not None:
        assert f"t.json:{where[0]}:{where[1]}:" in result.stdout, result.stdout


def _template(resources: list[Any], variables: dict[str, Any] | None = None,
              parameters: dict[str, Any] | None = None) -> str:
    return json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                       "contentVersion": "1.0.0.0", "parameters": parameters or {}, "variables": variables or {},
                       "resources": resources}, indent=2)


def _deployment(name: str, **props: Any) -> dict[str, Any]:
    return {"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
            "apiVersion": "2026-05-01", "name": name, "sku": {"name": "Default", "capacity": 3},
            "properties": {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v9", **props}}


def test_circular_variables_unknown_functions_and_bad_expressions(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    text = _template([
        _deployment("ws/my-ep/aaa", instanceType="[variables('a')]"),
        _deployment("ws/my-ep/bbb", instanceType="[uniqueString('x')]"),
        _deployment("ws/my-ep/ccc", instanceType="[concat('Standard_', ]"),
    ], variables={"a": "[variables('b')]", "b": "[concat(variables('a'), 'x')]"})
    (tmp_path / "t.json").write_text(text)
    result = run_cli("lint", "t.json", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)
    rules = sorted(f["rule"] for f in findings)
    # the circle and the malformed expression are reported, located; no rule guesses an
    # instance type for any of the three deployments
    assert rules == ["AML002", "AML003"], findings
    circle = next(f for f in findings if f["rule"] == "AML003")
    assert "a -> b -> a" in circle["message"]
    bad = next(f for f in findings if f["rule"] == "AML002")
    line = text.splitlines()[bad["line"] - 1]
    assert "concat('Standard_', ]" in line and line[bad["column"] - 1] == "]"


def test_copy_loops_and_huge_templates_are_bounded(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    looped = _deployment("[concat('ws/ep/d', copyIndex())]")
    looped["copy"] = {"name": "many", "count": 100000}
    nested: dict[str, Any] = _deployment("ws/ep/deep")
    for _ in range(30):  # child resources 30 deep
        nested = {**_deployment("ws/ep/x"), "resources": [nested]}
    (tmp_path / "t.json").write_text(_template([looped, nested]))
    result = run_cli("lint", "t.json", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr and result.returncode in (1, 2)
    messages = [f["message"] for f in json.loads(result.stdout) if f["rule"] == "AML003"]
    assert any("copy count 100000" in m for m in messages) and any("nest deeper" in m for m in messages)
    big = _template([_deployment(f"ws/ep/d{i}") for i in range(6000)])
    (tmp_path / "big.json").write_text(big)
    result = run_cli("lint", "big.json", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert any("more than 5,000 resources" in f["message"] for f in json.loads(result.stdout))


def test_import_reads_a_template_with_its_parameters(tmp_path: Path) -> None:
    """amlforge import on an ARM template: the spec of what it deploys; a value the template leaves
    to deploy time (an upload URI built from subscription()) is never written down."""
    from tests.conftest import run_cli

    root = tmp_path / "mlflow"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "mlflow-no-code", root)
    write_rendered(root / "amlforge.yaml", root / "gen")
    template = json.loads((root / "gen" / "arm" / "azuredeploy.json").read_text())
    uris = [k for k in template["parameters"] if k.startswith("modelUri")]
    without = run_cli("import", "gen/arm/azuredeploy.json", "-o", "-", cwd=root)
    assert without.returncode == 2 and "gen/arm/azuredeploy.json:" in without.stderr
    assert "<unknown" not in without.stdout and "Traceback" not in without.stderr
    params = {"parameters": {k: {"value": f"azureml://datastores/workspaceblobstore/paths/{k}/"} for k in uris}}
    (root / "p.json").write_text(json.dumps(params))
    result = run_cli("import", "gen/arm/azuredeploy.json", "--parameters", "p.json", "-o", "-", cwd=root)
    assert result.returncode == 0, result.stderr
    spec = __import__("yaml").safe_load(result.stdout)
    assert spec["endpoints"]["wine-mlflow"]["deployments"]["mlflow-v1"]["instance_type"] == "Standard_F4s_v2"
    assert {m["path"] for m in spec["models"].values()} == {f"azureml://datastores/workspaceblobstore/paths/{k}/"
                                                             for k in uris}


def test_a_parameters_file_without_the_workspace_keeps_nested_names_known(tmp_path: Path) -> None:
    """The traffic step amlforge generates is a nested deployment (inner scope) that passes the
    workspace name down. With a parameters file that leaves the workspace to deploy time, the
    nested endpoint was 'not known statically' (a false AML005 error, and import refused)."""
    from amlforge.policies.engine import lint_paths

    root = tmp_path / "bg"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "sklearn-blue-green", root)
    write_rendered(root / "amlforge.yaml", root / "gen")
    template = root / "gen" / "arm" / "azuredeploy.json"
    assert '"scope": "inner"' in template.read_text()  # the traffic step
    (root / "p.json").write_text(json.dumps({"parameters": {"location": {"value": "westeurope"}}}))
    report = lint_paths([template], root=root, parameters=root / "p.json")
    assert [f for f in report.findings if f.severity.value == "error"] == []
    [endpoint] = {d.data["name"] for d in report.projects[0].documents if d.kind == "managed_endpoint"}
    assert endpoint == "sklearn-iris-bg"
