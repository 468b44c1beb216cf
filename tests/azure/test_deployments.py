"""``amlforge azure validate|what-if|deploy`` with the real azure-mgmt-resource-deployments client
against the loopback ARM emulator (tests/azure/arm_emulator.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.azure.arm_emulator import RESOURCE_GROUP, SUBSCRIPTION, Emulator, expand
from tests.azure.conftest import TARGET, run_amlforge


def _polls(emu: Emulator, kind: str) -> list[int]:
    return [status for method, path, status in emu.log if method == "GET" and kind in path.lower()]


def test_validate_ok_polls_the_location_header(emulator: Emulator, template: Path) -> None:
    result = run_amlforge(emulator, "azure", "validate", str(template), *TARGET)
    assert result.returncode == 0, result.stderr
    assert "valid: Azure Resource Manager accepts the template (6 resources validated)" in result.stdout
    assert "/onlineEndpoints/sklearn-iris-bg/deployments/blue" in result.stdout
    posts = emulator.requests("POST", "/validate")
    assert len(posts) == 1 and posts[0][2] == 202
    assert "api-version=" in posts[0][1]
    # the long-running operation: 202 (running) twice, then 200 with the result
    assert _polls(emulator, "/operationresults/") == [202, 202, 200]


def test_validate_error_shows_the_arm_code_and_exits_1(emulator: Emulator, template: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.parameters.json"
    empty.write_text('{"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {}}')
    result = run_amlforge(emulator, "azure", "validate", str(template), *TARGET, "--parameters", str(empty))
    assert result.returncode == 1
    assert "error: Azure Resource Manager rejected the template (HTTP 400 InvalidTemplate)" in result.stderr
    assert "The value for the template parameter 'workspaceName'" in result.stderr
    assert "correlation id:" in result.stderr
    json_result = run_amlforge(emulator, "azure", "validate", str(template), *TARGET, "--parameters", str(empty),
                               "--format", "json")
    data = json.loads(json_result.stdout)
    assert json_result.returncode == 1
    assert data["ok"] is False and data["error"]["code"] == "InvalidTemplate"


def _existing_state(emu: Emulator, template: Path) -> None:
    """The group as an earlier deployment left it: green missing, blue on a smaller size, a stale deployment."""
    tpl = json.loads(template.read_text())
    params = json.loads(template.with_name("azuredeploy.parameters.json").read_text())["parameters"]
    for resource in expand(tpl, params, SUBSCRIPTION, RESOURCE_GROUP, "westeurope"):
        if resource["id"].endswith("/deployments/green"):
            continue
        if resource["id"].endswith("/deployments/blue"):
            resource = json.loads(json.dumps(resource))
            resource["properties"]["instanceType"] = "Standard_F2s_v2"
            resource["properties"]["environmentVariables"] = {"WORKER_COUNT": "1", "DEBUG": "1"}
        emu.add_resource(resource)
    stale = ("/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.MachineLearningServices/workspaces/"
             "aml-examples/onlineEndpoints/sklearn-iris-bg/deployments/old").format(s=SUBSCRIPTION, g=RESOURCE_GROUP)
    emu.add_resource({"id": stale, "name": "aml-examples/sklearn-iris-bg/old",
                      "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
                      "properties": {"instanceType": "Standard_DS3_v2"}})


def test_what_if_summarises_create_modify_delete_and_no_change(emulator: Emulator, template: Path) -> None:
    _existing_state(emulator, template)
    result = run_amlforge(emulator, "azure", "what-if", str(template), *TARGET, "--mode", "complete")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "What-if (Complete mode) in resource group rg-aml-examples:" in out
    assert "+ create     aml-examples/sklearn-iris-bg/green" in out
    assert "~ modify     aml-examples/sklearn-iris-bg/blue" in out
    assert '~ properties.instanceType: "Standard_F2s_v2" => "Standard_F4s_v2"' in out
    assert '- properties.environmentVariables.DEBUG: "1"' in out
    assert "- delete     aml-examples/sklearn-iris-bg/old" in out
    assert "= no change  aml-examples/sklearn-iris-bg  " in out
    assert "Resource changes: 1 to create, 1 to modify, 1 to delete, 4 unchanged." in out
    # create and modify come first, in ARM's change-type order
    assert out.index("+ create") < out.index("~ modify") < out.index("- delete") < out.index("= no change")
    assert _polls(emulator, "/operationresults/") == [202, 202, 200]


def test_what_if_incremental_ignores_and_json(emulator: Emulator, template: Path) -> None:
    _existing_state(emulator, template)
    result = run_amlforge(emulator, "azure", "what-if", str(template), *TARGET, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "Incremental"
    assert data["counts"]["Create"] == 1 and data["counts"]["Modify"] == 1
    assert data["counts"]["Delete"] == 0 and data["counts"]["Ignore"] == 1 and data["counts"]["NoChange"] == 4
    blue = next(c for c in data["changes"] if c["change"] == "Modify")
    assert blue["type"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
    assert {"path": "properties.instanceType", "change": "Modify", "before": "Standard_F2s_v2",
            "after": "Standard_F4s_v2"} in blue["delta"]


def test_deploy_lints_then_polls_to_success(emulator: Emulator, template: Path) -> None:
    emulator.running_polls = 3
    result = run_amlforge(emulator, "azure", "deploy", str(template), *TARGET, "--deployment-name", "rollout-1")
    assert result.returncode == 0, result.stderr
    assert "lint: no errors in" in result.stderr and "generated/azureml" in result.stderr
    assert "deploying 'rollout-1'" in result.stderr
    assert "  Running (" in result.stderr and "  Succeeded (" in result.stderr
    assert "deployed: 'rollout-1' Succeeded" in result.stdout and "(6 resources)" in result.stdout
    puts = emulator.requests("PUT", "/deployments/rollout-1")
    assert [p[2] for p in puts] == [201]
    statuses = _polls(emulator, "/operationstatuses/")
    assert len(statuses) == 4  # Running x3, then Succeeded
    # the final GET of the deployment after the Azure-AsyncOperation said Succeeded
    assert emulator.requests("GET", "/deployments/rollout-1?")[-1][2] == 200
    # and the group now holds what the template describes: what-if sees no change
    again = run_amlforge(emulator, "azure", "what-if", str(template), *TARGET)
    assert "Resource changes: 0 to create, 0 to modify, 0 to delete, 6 unchanged." in again.stdout


def test_deploy_refused_when_lint_finds_errors(emulator: Emulator, project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(project, broken)
    blue = broken / "generated" / "azureml" / "sklearn-iris-bg.blue.deployment.yml"
    blue.write_text(blue.read_text().replace("instance_type: Standard_F4s_v2", "instance_type: Standard_Bogus_v9"))
    result = run_amlforge(emulator, "azure", "deploy", str(broken / "generated" / "arm" / "azuredeploy.json"), *TARGET)
    assert result.returncode == 1
    assert "error AML201 instance_type 'Standard_Bogus_v9'" in result.stdout
    assert "refused: lint found 1 error" in result.stderr and "nothing was deployed" in result.stderr
    assert emulator.log == []  # nothing reached Azure


def test_deploy_without_yaml_to_lint_is_refused(emulator: Emulator, template: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone.json"
    shutil.copy(template, alone)
    shutil.copy(template.with_name("azuredeploy.parameters.json"), tmp_path / "alone.parameters.json")
    result = run_amlforge(emulator, "azure", "deploy", str(alone), *TARGET)
    assert result.returncode == 2
    assert "deploy lints the project's az-ml YAML first" in result.stderr and "--project" in result.stderr
    assert emulator.log == []


def test_deploy_failure_shows_inner_errors(emulator: Emulator, template: Path) -> None:
    emulator.fail_deployment = "The quota for standardFSv2Family is exceeded in westeurope."
    result = run_amlforge(emulator, "azure", "deploy", str(template), *TARGET, "--deployment-name", "doomed")
    assert result.returncode == 1
    assert "error: the deployment failed" in result.stderr
    assert "DeploymentFailed: At least one resource deployment operation failed." in result.stderr
    assert "ResourceDeploymentFailure: The quota for standardFSv2Family is exceeded" in result.stderr
    assert "deployed:" not in result.stdout


def test_spec_is_generated_in_memory_and_target_gives_the_group(emulator: Emulator, project: Path) -> None:
    # no --resource-group: amlforge.yaml's target.resource_group (rg-aml-examples) is used
    result = run_amlforge(emulator, "azure", "deploy", str(project / "amlforge.yaml"), "--subscription",
                          SUBSCRIPTION, "--poll-interval", "0.05", "-n", "from-spec")
    assert result.returncode == 0, result.stderr
    assert "lint: no errors in the az-ml YAML generated from" in result.stderr
    assert emulator.requests("PUT", f"/resourcegroups/{RESOURCE_GROUP}/providers/Microsoft.Resources/deployments/from-spec")
    # the same template as the generated file
    validate = run_amlforge(emulator, "azure", "validate", str(project), "--subscription", SUBSCRIPTION,
                            "--poll-interval", "0.05")
    assert validate.returncode == 0 and "(6 resources validated)" in validate.stdout


def test_deploy_timeout_stops_waiting(emulator: Emulator, template: Path) -> None:
    emulator.running_polls = 10_000  # never ends within the test; bounded by the emulator's request budget
    result = run_amlforge(emulator, "azure", "deploy", str(template), *TARGET, "-n", "slow", "--timeout", "1")
    assert result.returncode == 2
    assert "the deployment 'slow' is still Running after" in result.stderr and "it goes on in Azure" in result.stderr
    assert "az deployment group show -g rg-aml-examples -n slow" in result.stderr
    assert len(emulator.log) < emulator.max_requests
