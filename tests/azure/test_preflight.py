"""Pre-flight reads before validate / what-if / deploy: the real azure-mgmt-resource client
(``ResourceManagementClient``) against the loopback ARM emulator.

Each failed check is one located message with a hint and exit code 2, and no deployments
request reaches the emulator; a read refused for lack of permission is a note and the
operation goes on; ``--no-preflight`` makes no pre-flight request at all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.azure.arm_emulator import ML_NAMESPACE, RESOURCE_GROUP, SUBSCRIPTION, WORKSPACE, Emulator
from tests.azure.conftest import TARGET, azure_env, run_amlforge
from tests.conftest import ROOT

GROUP_GET = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{RESOURCE_GROUP}?"
PROVIDER_GET = f"/subscriptions/{SUBSCRIPTION}/providers/{ML_NAMESPACE}?"
WORKSPACE_GET = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/{ML_NAMESPACE}/workspaces/"
                 f"{WORKSPACE}?")
PREFLIGHT = (GROUP_GET, PROVIDER_GET, WORKSPACE_GET)
COMMANDS = ("validate", "what-if", "deploy")


def _deployments_requests(emu: Emulator) -> list[tuple[str, str, int]]:
    return [r for r in emu.log if "/providers/microsoft.resources/deployments/" in r[1].lower()]


def _preflight_requests(emu: Emulator) -> list[tuple[str, str, int]]:
    return [r for r in emu.log if any(r[1].startswith(p) for p in PREFLIGHT)]


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _run(emu: Emulator, command: str, source: Path, *options: str):
    return run_amlforge(emu, "azure", command, str(source), *TARGET, *options)


@pytest.mark.parametrize("command", COMMANDS)
def test_happy_path_reads_then_runs_the_operation(emulator: Emulator, template: Path, command: str) -> None:
    result = _run(emulator, command, template)
    assert result.returncode == 0, result.stderr
    assert ("pre-flight: resource group 'rg-aml-examples' (westeurope), Microsoft.MachineLearningServices "
            "registered, workspace 'aml-examples' (westeurope): ok") in result.stderr
    assert "note: pre-flight" not in result.stderr
    # the three reads come first, each once, with the api-versions the clients send: azure-mgmt-resource's
    # default for the group and the provider, the template's Microsoft.MachineLearningServices one for the workspace
    first = emulator.log[:3]
    assert [(m, s) for m, _, s in first] == [("GET", 200)] * 3
    assert first[0][1] == GROUP_GET + "api-version=2025-04-01"
    assert first[1][1] == PROVIDER_GET + "api-version=2025-04-01"
    assert first[2][1] == WORKSPACE_GET + "api-version=2026-05-01"  # the template's, amlforge's default
    assert len(_preflight_requests(emulator)) == 3
    assert _deployments_requests(emulator)
    expected = {"validate": ("stdout", "valid: Azure Resource Manager accepts the template"),
                "what-if": ("stdout", "Resource changes: 6 to create"),
                "deploy": ("stdout", "deployed: '")}[command]
    assert expected[1] in getattr(result, expected[0])


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_resource_group(emulator: Emulator, template: Path, command: str) -> None:
    emulator.resource_groups.clear()
    result = _run(emulator, command, template)
    assert result.returncode == 2
    assert ("error: resource group 'rg-aml-examples' does not exist in subscription "
            f"{SUBSCRIPTION} (HTTP 404 ResourceGroupNotFound)") in result.stderr
    # the region of the template's location parameter (azuredeploy.parameters.json)
    assert "hint: create it: az group create -n rg-aml-examples -l westeurope" in result.stderr
    assert _deployments_requests(emulator) == []
    assert [r[1] for r in emulator.log] == [GROUP_GET + "api-version=2025-04-01"]


def test_missing_resource_group_of_a_spec_points_at_target(emulator: Emulator, project: Path) -> None:
    emulator.resource_groups.clear()
    spec = project / "amlforge.yaml"
    result = run_amlforge(emulator, "azure", "what-if", str(spec), "--subscription", SUBSCRIPTION)
    assert result.returncode == 2
    assert f"amlforge.yaml:{_line(spec, 'resource_group:')}:" in result.stderr
    assert "resource group 'rg-aml-examples' does not exist" in result.stderr
    assert "az group create -n rg-aml-examples -l westeurope" in result.stderr  # target.region
    assert _deployments_requests(emulator) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_unregistered_provider_is_a_note(emulator: Emulator, template: Path, command: str) -> None:
    """ARM registers the providers a template uses when the caller may: pre-flight must not block."""
    emulator.providers[ML_NAMESPACE.lower()] = "NotRegistered"
    result = _run(emulator, command, template)
    assert result.returncode == 0, result.stderr
    assert (f"the subscription {SUBSCRIPTION} is not registered for the Microsoft.MachineLearningServices "
            "resource provider (registrationState: NotRegistered): ARM registers it during the deployment if you may "
            "register providers, else refuses the template with MissingSubscriptionRegistration") in result.stderr
    assert "az provider register --namespace Microsoft.MachineLearningServices" in result.stderr
    assert _deployments_requests(emulator) != []


def test_provider_still_registering_is_a_note(emulator: Emulator, template: Path) -> None:
    emulator.providers[ML_NAMESPACE.lower()] = "Registering"
    result = _run(emulator, "validate", template)
    assert result.returncode == 0, result.stderr
    assert "(registrationState: Registering)" in result.stderr
    assert "registration is under way: wait until 'az provider show --namespace " \
           "Microsoft.MachineLearningServices" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_workspace(emulator: Emulator, template: Path, command: str) -> None:
    emulator.workspaces.clear()
    result = _run(emulator, command, template)
    assert result.returncode == 2
    parameters = template.with_name("azuredeploy.parameters.json")
    # located at the workspaceName parameter of the parameters file beside the template
    line = _line(parameters, '"workspaceName"')
    assert f"azuredeploy.parameters.json:{line}:1: error: Azure ML workspace " \
           f"'aml-examples' does not exist in resource group 'rg-aml-examples' of subscription {SUBSCRIPTION} " \
           "(HTTP 404 ResourceNotFound); the template deploys into it" in result.stderr
    assert "hint: create it (az ml workspace create -n aml-examples -g rg-aml-examples -l westeurope)" \
        in result.stderr
    assert _deployments_requests(emulator) == []
    assert [s for _, _, s in emulator.log] == [200, 200, 404]


def test_missing_workspace_of_a_spec_points_at_target_workspace(emulator: Emulator, project: Path) -> None:
    emulator.workspaces.clear()
    spec = project / "amlforge.yaml"
    result = run_amlforge(emulator, "azure", "validate", str(project), "--subscription", SUBSCRIPTION)
    assert result.returncode == 2
    assert f"amlforge.yaml:{_line(spec, 'workspace:')}:" in result.stderr
    assert "Azure ML workspace 'aml-examples' does not exist" in result.stderr
    assert _deployments_requests(emulator) == []


def test_workspace_of_another_name_in_the_group(emulator: Emulator, template: Path, tmp_path: Path) -> None:
    """The workspaceName of --parameters is the one read."""
    other = tmp_path / "other.parameters.json"
    other.write_text(json.dumps({"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {
        "workspaceName": {"value": "aml-other"}, "location": {"value": "westeurope"}}}, indent=2))
    result = _run(emulator, "validate", template, "--parameters", str(other))
    assert result.returncode == 2
    assert f"other.parameters.json:{_line(other, 'workspaceName')}:1: error: Azure ML workspace 'aml-other'" \
        in result.stderr
    emulator.workspaces[(SUBSCRIPTION, RESOURCE_GROUP)]["aml-other"] = "westeurope"
    assert _run(emulator, "validate", template, "--parameters", str(other)).returncode == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_403_on_the_provider_read_is_a_note(emulator: Emulator, template: Path, command: str) -> None:
    """A deploy principal with Contributor on the group only may not read the subscription's providers."""
    emulator.forbidden_reads.add("providers")
    result = _run(emulator, command, template)
    assert result.returncode == 0, result.stderr
    assert ("note: pre-flight could not read the registration of Microsoft.MachineLearningServices (HTTP 403 "
            "AuthorizationFailed); that needs Reader on the subscription (Microsoft.Resources/subscriptions/"
            "providers/read); going on without this check") in result.stderr
    # the other checks still ran
    assert "pre-flight: resource group 'rg-aml-examples' (westeurope), workspace 'aml-examples' (westeurope): ok" \
        in result.stderr
    assert [s for _, _, s in _preflight_requests(emulator)] == [200, 403, 200]
    assert _deployments_requests(emulator)


def test_403_on_every_read_leaves_the_answer_to_arm(emulator: Emulator, template: Path) -> None:
    emulator.forbidden_reads.update({"resourceGroups", "providers", "workspaces"})
    result = _run(emulator, "deploy", template, "-n", "blind")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("note: pre-flight could not") == 3
    assert "Reader on the resource group" in result.stderr and "Reader on the workspace" in result.stderr
    assert "pre-flight:" not in result.stderr.replace("note: pre-flight", "")
    assert "deployed: 'blind' Succeeded" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_no_preflight_makes_no_pre_flight_request(emulator: Emulator, template: Path, command: str) -> None:
    emulator.workspaces.clear()  # pre-flight would stop the run; ARM (this emulator) does not look
    result = _run(emulator, command, template, "--no-preflight")
    assert result.returncode == 0, result.stderr
    assert "pre-flight" not in result.stderr
    assert _preflight_requests(emulator) == []
    assert emulator.log and emulator.log[0][0] in ("POST", "PUT")


def test_group_in_another_region_is_a_note(emulator: Emulator, project: Path) -> None:
    emulator.resource_groups[(SUBSCRIPTION, RESOURCE_GROUP)] = "eastus"
    result = run_amlforge(emulator, "azure", "validate", str(project), "--subscription", SUBSCRIPTION)
    assert result.returncode == 0, result.stderr
    assert ("note: resource group 'rg-aml-examples' is in eastus, target.region of the spec is westeurope: the "
            "resources are created in westeurope") in result.stderr


def test_unimportable_azure_mgmt_resource_names_the_extra(emulator: Emulator, template: Path) -> None:
    """azure-mgmt-resource is part of the 'azure' extra: without it, the command says which extra to install
    (exit 2) before any request, instead of failing half-way."""
    blocker = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "azure.mgmt.resource.resources" or name.startswith("azure.mgmt.resource.resources."):
                    raise ModuleNotFoundError(f"No module named '{name}'")
                return None
        sys.meta_path.insert(0, Block())
        from amlforge.cli import main
        main(sys.argv[1:])
    """)
    result = subprocess.run([sys.executable, "-c", blocker, "azure", "validate", str(template), *TARGET], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=azure_env(emulator))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install 'amlforge[azure]'" in result.stderr
    assert _preflight_requests(emulator) == [] and _deployments_requests(emulator) == []


# --- what pre-flight checks, without a server ---------------------------------------------------


def test_plan_of_a_generated_template(template: Path) -> None:
    from amlforge.integrations.azure.arm import load_input
    from amlforge.integrations.azure.preflight import plan

    p = plan(load_input(template))
    assert (p.uses_ml, p.creates_workspace, p.workspace, p.api_version) == (True, False, WORKSPACE, "2026-05-01")
    assert (p.region, p.region_from) == ("westeurope", "the template's location parameter")
    assert p.workspace_at is not None and p.workspace_at.file.endswith("azuredeploy.parameters.json")


def test_plan_of_other_templates(tmp_path: Path) -> None:
    from amlforge.integrations.azure.arm import load_input
    from amlforge.integrations.azure.preflight import plan

    creates = tmp_path / "creates.json"
    creates.write_text(json.dumps({"parameters": {"workspaceName": {"type": "string", "defaultValue": "ws-new"}},
                                   "resources": [{"type": "Microsoft.MachineLearningServices/workspaces",
                                                  "apiVersion": "2024-10-01", "name": "[parameters('workspaceName')]"},
                                                 {"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                                                  "apiVersion": "2024-10-01", "name": "ws-new/ep"}]}))
    p = plan(load_input(creates))
    assert p.creates_workspace and p.workspace == "ws-new" and p.api_version == "2024-10-01"
    literal = tmp_path / "literal.json"  # no workspaceName parameter: the literal parent of the child resources
    literal.write_text(json.dumps({"resources": [{"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                                                  "apiVersion": "2024-04-01", "name": "ws-literal/ep"}]}))
    assert plan(load_input(literal)).workspace == "ws-literal"
    other = tmp_path / "storage.json"
    other.write_text(json.dumps({"resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "st"}]}))
    p = plan(load_input(other))
    assert not p.uses_ml and p.workspace is None and p.region is None
