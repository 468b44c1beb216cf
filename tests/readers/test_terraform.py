"""Terraform (azapi) both ways: ``generate --only terraform`` output parses with python-hcl2 (the
independent oracle) into the same resource bodies as the ARM template, and the Terraform reader
reads it back as the az-ml YAML of the same spec; hand-written azapi files are read with their
variables, locals and tfvars, located at the .tf lines; bad HCL is a located problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import ALL_TARGETS, render_files
from amlforge.specs.project_spec import load_spec
from tests.generators.conftest import SHOWCASE, SPEC_IDS, SPECS
from tests.generators.semantics import evaluate_arm
from tests.readers.roundtrip import canonical, read_back

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is a test dependency (extra 'terraform')")


def write_all(spec_path: Path, out: Path) -> dict[str, str]:
    files = render_files(read_inputs(load_spec(spec_path), out), ALL_TARGETS)
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return files


def _strip(value: Any) -> Any:
    """python-hcl2's dict form -> plain values: quoted strings unquoted, meta keys dropped."""
    if isinstance(value, dict):
        return {_strip_key(k): _strip(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
        return json.loads(value)
    return value


def _strip_key(key: str) -> str:
    return _strip(key) if key.startswith('"') else key


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_hcl2_parses_the_same_bodies_as_the_arm_template(spec_path: Path, tmp_path: Path) -> None:
    root = tmp_path / spec_path.parent.name
    shutil.copytree(spec_path.parent, root)
    files = write_all(root / spec_path.name, root / "out")
    parsed = hcl2.loads(files["terraform/main.tf"])
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    tf = {}
    for block in parsed["resource"]:
        (kind, named), = ((k, v) for k, v in block.items() if not k.startswith("__"))
        (symbol, res), = ((k, v) for k, v in named.items() if not k.startswith("__"))
        tf[(_strip(kind), _strip(symbol))] = _strip(res)
    resources = [r for (k, _), r in tf.items() if k == "azapi_resource"]
    assert len(resources) == len(arm["resources"])
    assert sum(1 for (k, _) in tf if k == "azapi_update_resource") == len(arm["traffic"])
    for (rtype, name), res in arm["resources"].items():
        def parent_name(r: dict[str, Any]) -> str:
            ref = r["parent_id"].removeprefix("${").removesuffix("}")
            if ref.startswith("azapi_resource."):
                return tf[("azapi_resource", ref.split(".")[1])]["name"]
            return ref.rsplit("/", 1)[-1]

        match = [r for r in resources if r["type"].split("@")[0] == rtype and r["name"] == name.rsplit("/", 1)[-1]
                 and (rtype.endswith("/onlineEndpoints") or parent_name(r) == name.split("/")[-2])]
        assert len(match) == 1, (rtype, name)
        body = match[0]["body"]
        assert match[0]["type"].split("@")[1] == res["apiVersion"]
        # literal values agree; references (ids, URIs) are expressions on both sides
        def literals(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: literals(v) for k, v in value.items()}
            if isinstance(value, str) and ("${" in value or "/subscriptions/" in value or value.startswith("azureml://subscriptions")):
                return "<expr>"
            return value
        for key in ("properties", "sku"):
            if key in res["body"]:
                assert literals(body[key]) == literals(res["body"][key]), (name, key)


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_generated_terraform_reads_back_as_the_generated_yaml(spec_path: Path, tmp_path: Path) -> None:
    root = tmp_path / spec_path.parent.name
    shutil.copytree(spec_path.parent, root)
    write_all(root / spec_path.name, root / "out")
    from_yaml, _ = read_back([root / "out" / "azureml"])
    from_tf, problems = read_back([root / "out" / "terraform" / "main.tf"])
    assert problems == []
    assert {d.reader for d in from_tf.documents} == {"terraform"}
    assert canonical(from_tf) == canonical(from_yaml)


def test_startup_probe_and_traffic_positions_in_terraform(tmp_path: Path) -> None:
    shutil.copytree(SHOWCASE.parent, tmp_path / "s")
    write_all(tmp_path / "s" / "amlforge.yaml", tmp_path / "s" / "out")
    main = tmp_path / "s" / "out" / "terraform" / "main.tf"
    project, _ = read_back([main])
    blue = next(d for d in project.deployments if d.spec.name == "blue")
    assert blue.spec.startup_probe is not None and blue.spec.startup_probe.failure_threshold == 60
    ep = next(e for e in project.endpoints if e.spec.traffic)
    loc = ep.at("traffic").location()
    lines = main.read_text().splitlines()
    assert "traffic" in lines[loc.line - 2] or lines[loc.line - 1].lstrip().startswith("traffic") or \
        lines[loc.line - 1][loc.column - 1] == "{"


FIXTURE = """
variable "workspace_id" {
  type = string
}
variable "sku" {
  type    = string
  default = "Standard_DS3_v9"
}
locals {
  timeout = "PT999S"
}
resource "azapi_resource" "endpoint" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2026-05-01"
  name      = "fraud-ep"
  parent_id = var.workspace_id
  location  = "westeurope"
  body = {
    properties = {
      authMode = "Key"
      traffic  = { blue = 70 }
    }
  }
}
resource "azapi_resource" "blue" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2026-05-01"
  name      = "blue"
  parent_id = azapi_resource.endpoint.id
  body = {
    sku = { name = "Default", capacity = 1 }
    properties = {
      endpointComputeType = "Managed"
      instanceType        = var.sku
      requestSettings     = { requestTimeout = local.timeout }
      environmentVariables = { KEY = data.azurerm_key_vault_secret.k.value, N = lower("X") }
    }
  }
}
"""


def test_hand_written_azapi_with_variables_locals_and_tfvars(tmp_path: Path) -> None:
    from amlforge.policies.engine import lint_paths

    (tmp_path / "main.tf").write_text(FIXTURE)
    found = {f.rule: f.location for f in lint_paths([tmp_path]).findings}
    assert {"AML201", "AML301", "AML306"} <= set(found)
    lines = FIXTURE.splitlines()
    line = lines[found["AML306"].line - 1]  # the local's use, in the deployment
    assert "requestTimeout = local.timeout" in line
    project, _ = read_back([tmp_path / "main.tf"])
    blue = project.deployments[0]
    assert blue.doc.source.is_unknown(("environment_variables", "KEY"))
    assert blue.doc.source.is_unknown(("environment_variables", "N"))  # functions are never evaluated
    (tmp_path / "terraform.tfvars").write_text('sku = "Standard_DS4_v2"\n')
    project, _ = read_back([tmp_path / "main.tf"])
    assert project.deployments[0].spec.instance_type == "Standard_DS4_v2"


@pytest.mark.parametrize("text", ['resource "azapi_resource" "x" {\n  type = \n}\n',
                                  'resource "azapi_resource" "x" {\n  body = { a = "unterminated }\n}\n'])
def test_bad_hcl_is_a_located_problem(text: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "t.tf").write_text(text)
    result = run_cli("lint", "t.tf", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # a file that does not parse is a finding
    assert "Traceback" not in result.stderr
    assert "AML002" in result.stdout and "invalid HCL" in result.stdout and "t.tf:" in result.stdout


def test_deep_brackets_fail_before_the_parser_at_their_place(tmp_path: Path) -> None:
    """python-hcl2's parser takes seconds on 20,000 nested brackets; they are refused before it,
    at the first bracket too deep. Braces in strings, comments and heredocs do not count."""
    from tests.conftest import run_cli

    head = ('resource "azapi_resource" "ep" {\n'
            '  type = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01"\n  body = ')
    (tmp_path / "deep.tf").write_text(head + "[" * 20_000 + "]" * 20_000 + "\n}\n")
    result = run_cli("lint", "deep.tf", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deep.tf:3:265: error AML003 the file nests brackets deeper than 256 levels" in result.stdout
    braces = "{" * 300
    (tmp_path / "deep.tf").write_text(
        head + '{\n    note = "' + braces + '"  # ' + braces + '\n    /* ' + braces + ' */\n'
        '    script = <<-EOT\n      ' + braces + '\n    EOT\n  }\n}\n')
    quiet = run_cli("lint", "deep.tf", cwd=tmp_path)
    assert "AML003" not in quiet.stdout and "AML002" not in quiet.stdout, quiet.stdout + quiet.stderr
