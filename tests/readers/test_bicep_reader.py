"""The Bicep reader: generated Bicep reads back as the az-ml YAML of the same spec does;
hand-written Bicep (param defaults, .bicepparam, var, interpolation, existing parents, parent:,
nested children, loops, conditions, local modules) becomes located documents; bad input is a
located problem. pycep-parser is the independent oracle of the parse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.generators.conftest import SPEC_IDS, SPECS
from tests.readers.roundtrip import canonical, read_back
from tests.readers.test_arm_reader import write_rendered

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bicep"


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_generated_bicep_reads_back_as_the_generated_yaml(spec_path: Path, tmp_path: Path) -> None:
    root = tmp_path / spec_path.parent.name
    shutil.copytree(spec_path.parent, root)
    out = root / "generated"
    write_rendered(root / spec_path.name, out)
    from_yaml, _ = read_back([out / "azureml"])
    from_bicep, problems = read_back([out / "bicep" / "main.bicep"])
    assert problems == []
    assert {d.reader for d in from_bicep.documents} == {"bicep"}
    assert canonical(from_bicep) == canonical(from_yaml)
    # and as the ARM template does, document by document
    from_arm, _ = read_back([out / "arm" / "azuredeploy.json"])
    assert canonical(from_bicep) == canonical(from_arm)


def test_hand_written_bicep() -> None:
    project, problems = read_back([FIXTURES / "main.bicep"])
    assert problems == []
    names = sorted((d.spec.endpoint_name, d.spec.name) for d in project.deployments)
    # nested child, a two-item loop; the canary's condition is false
    assert names == [("fraud-ep", "blue"), ("fraud-ep", "green0"), ("fraud-ep", "green1")]
    blue = next(d for d in project.deployments if d.spec.name == "blue")
    assert blue.spec.instance_count == 1 and blue.spec.instance_type == "Standard_DS3_v2"
    assert blue.spec.environment == "azureml:fraud-env:3"  # '${ws.id}/environments/...' through a var
    assert blue.doc.source.is_unknown(("environment_variables", "KEY"))  # listKeys()
    green1 = next(d for d in project.deployments if d.spec.name == "green1")
    assert green1.doc.source.is_unknown(("instance_type",))  # a deployed resource's property
    (env,) = project.environments  # from the local module, with the caller's parameter values
    assert env.spec.image.endswith(":latest") and env.doc.display.endswith("env.bicep")
    assert env.spec.conda_file["channels"] == ["conda-forge"]


def test_bicep_findings_point_at_the_bicep_file() -> None:
    from amlforge.policies.engine import lint_paths

    report = lint_paths([FIXTURES])
    text = (FIXTURES / "main.bicep").read_text().splitlines()
    at = {f.rule: f.location for f in report.findings}
    assert {"AML301", "AML306", "AML201", "AML402", "AML407"} <= set(at)
    assert text[at["AML306"].line - 1][at["AML306"].column - 1:].startswith("'PT999S'")
    assert text[at["AML201"].line - 1][at["AML201"].column - 1:].startswith("i == 0 ?")
    assert at["AML407"].file.endswith("modules/env.bicep")
    # the same rules as the ARM form of the same resources
    arm = lint_paths([FIXTURES.parent / "arm"])
    assert sorted(f.rule for f in report.findings) == sorted(f.rule for f in arm.findings)


def test_parameters_option_with_a_bicepparam_or_arm_json() -> None:
    for params in (FIXTURES / "prod.bicepparam", FIXTURES.parent / "arm" / "prod.parameters.json"):
        project, problems = read_back([FIXTURES / "main.bicep"], parameters=params)
        assert problems == []
        blue = next(d for d in project.deployments if d.spec.name == "blue")
        assert (blue.spec.instance_count, blue.spec.instance_type) == (3, "Standard_DS4_v2")


def test_pycep_parses_the_same_resources() -> None:
    """The independent oracle: pycep-parser sees the same symbols, types and api-versions."""
    from pycep import BicepParser

    from amlforge.readers import bicep_parse as bp

    for path in [FIXTURES / "main.bicep", FIXTURES / "modules" / "env.bicep",
                 *sorted(Path(__file__).resolve().parents[1].glob("generators/golden/*/bicep/*.bicep"))]:
        theirs = BicepParser().parse(file_path=path)
        ours: dict[str, tuple[str, str]] = {}

        def collect(decls: list[Any], parent: tuple[str, str, str] | None) -> None:
            for d in decls:
                if d.kind == "resource":
                    rtype, _, api = d.type_text.partition("@")
                    key = d.name
                    if parent is not None:  # a nested child: short type, the parent's api-version
                        key, rtype, api = f"{parent[0]}__{d.name}", f"{parent[1]}/{rtype}", api or parent[2]
                    ours[key] = (rtype, api)
                    body = d.value.body if isinstance(d.value, bp.For) else d.value
                    body = body.body if isinstance(body, bp.IfBody) else body
                    if isinstance(body, bp.Obj):
                        collect(body.resources, (key, rtype, api))

        collect(bp.parse_bicep(path.read_text()), None)
        assert ours == {k: (r["type"], r["api_version"]) for k, r in theirs["resources"].items()}
        assert set(theirs.get("parameters", {})) == {d.name for d in bp.parse_bicep(path.read_text()) if d.kind == "param"}


BAD = {
    "unclosed-object": ("resource x 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2026-05-01' = {\n"
                        "  name: 'ws/ep'\n", "AML002", (1, 88)),
    "unterminated-string": ("param a string = 'oops\n", "AML002", (1, 18)),
    "garbage": ("resource x = = {}\n", "AML002", (1, 12)),
    "deep": ("var x = " + "[" * 300 + "]" * 300 + "\n", "AML003", None),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_bicep_is_a_located_problem(case: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    text, code, where = BAD[case]
    (tmp_path / "t.bicep").write_text(text)
    result = run_cli("lint", "t.bicep", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # a file that does not parse is a finding
    assert "Traceback" not in result.stderr
    assert code in result.stdout and "invalid Bicep" in result.stdout, result.stdout
    if where is not None:
        assert f"t.bicep:{where[0]}:{where[1]}:" in result.stdout, result.stdout


def test_circular_vars_recursive_modules_and_big_loops(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    dep = ("resource d{n} 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2026-05-01' = {{\n"
           "  name: 'ws/my-ep/d{n}'\n  properties: {{\n    endpointComputeType: 'Managed'\n    instanceType: {it}\n  }}\n}}\n")
    (tmp_path / "t.bicep").write_text(
        "var a = b\nvar b = '${a}x'\n" + dep.format(n=1, it="a") + dep.format(n=2, it="uniqueString('x')")
        + "module self 't.bicep' = {\n  name: 'again'\n}\n"
        + "resource many 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2026-05-01' = "
          "[for i in range(0, 100000): {\n  name: 'ws/my-ep/m${i}'\n}]\n")
    result = run_cli("lint", "t.bicep", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)
    messages = [f["message"] for f in findings if f["rule"] == "AML003"]
    assert any("a -> b -> a" in m for m in messages), findings
    assert any("calls itself" in m for m in messages), findings
    # no rule guessed an instance type for d1 (circular) or d2 (uniqueString)
    assert not [f for f in findings if f["rule"] == "AML201"]
