"""The pieces without a server: ids, families, the quota file, endpoints, inputs, and the import
boundary (no Azure SDK module on the lint path)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.integrations.azure.arm import check_names, load_input, split_resource_id
from amlforge.integrations.azure.credentials import arm_endpoint, credential_scopes
from amlforge.integrations.azure.quota import family_key, quota_file_text, usages_to_quota
from tests.azure.arm_emulator import SUBSCRIPTION, regional_row, usage_row
from tests.conftest import ROOT


def test_split_resource_id() -> None:
    rid = ("/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/ws/"
           "onlineEndpoints/ep/deployments/blue")
    assert split_resource_id(rid) == ("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
                                      "ws/ep/blue")
    assert split_resource_id("/subscriptions/s/resourceGroups/g") == ("", "/subscriptions/s/resourceGroups/g")


@pytest.mark.parametrize(("name", "key"), [
    ("Standard DSv2 Family Cluster Dedicated vCPUs", "standardDSv2Family"),
    ("Standard NCADSA100v4 Family Cluster Dedicated vCPUs", "standardNCADSA100v4Family"),
    ("Standard NCASv3_T4 Family Cluster Dedicated vCPUs", "standardNCASv3_T4Family"),
    ("Standard DSv2 Family Cluster LowPriority vCPUs", None),
    ("Total Cluster Dedicated Regional vCPUs", None),
    ("Clusters", None),
])
def test_family_key(name: str, key: str | None) -> None:
    assert family_key(name) == key


def test_usages_to_quota_and_the_file_round_trip(tmp_path: Path) -> None:
    from amlforge.specs.quota import load_quota

    rows = [
        regional_row(SUBSCRIPTION, 14, 24),
        usage_row(SUBSCRIPTION, "Standard DSv2 Family", 2, 24),
        usage_row(SUBSCRIPTION, "Standard DSv2 Family", 2, 24, workspace="w1"),  # a share: skipped
        usage_row(SUBSCRIPTION, "Standard NC Family", 12, 24),
        usage_row(SUBSCRIPTION, "Standard NC Family", 18, -1, low_priority=True),  # skipped
        {"id": "x", "name": "not a dict row"},  # tolerated
    ]
    live = usages_to_quota(rows, SUBSCRIPTION, "eastus")
    assert {k: (v.limit, v.usage) for k, v in live.spec.families.items()} == {
        "standardDSv2Family": (24, 2), "standardNCFamily": (24, 12)}
    assert live.regional_vcpus is not None and live.regional_vcpus.available == 10
    path = tmp_path / "quota.yaml"
    path.write_text(quota_file_text(live))
    loaded = load_quota(path)
    assert loaded.families == live.spec.families
    assert (loaded.subscription, loaded.region) == (SUBSCRIPTION, "eastus")


def test_arm_endpoint_and_scopes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMLFORGE_ARM_ENDPOINT", raising=False)
    assert arm_endpoint() == "https://management.azure.com"
    monkeypatch.setenv("AMLFORGE_ARM_ENDPOINT", "https://management.chinacloudapi.cn/")
    assert arm_endpoint() == "https://management.chinacloudapi.cn"
    assert credential_scopes(arm_endpoint()) == ["https://management.chinacloudapi.cn/.default"]
    assert credential_scopes("https://management.usgovcloudapi.net") == [
        "https://management.core.usgovcloudapi.net/.default"]
    assert credential_scopes("https://127.0.0.1:8443") == ["https://127.0.0.1:8443/.default"]
    for bad in ("http://management.azure.com", "management.azure.com", "https://x/api"):
        with pytest.raises(UserInputError):
            arm_endpoint(bad)


def test_inputs_are_checked(tmp_path: Path) -> None:
    (tmp_path / "main.bicep").write_text("param x string\n")
    (tmp_path / "data.json").write_text('{"a": 1}')
    (tmp_path / "t.json").write_text(json.dumps({"resources": []}))
    (tmp_path / "p.json").write_text(json.dumps({"parameters": {"x": 1}, "contentVersion": "1.0.0.0"}))
    cases = {
        tmp_path / "main.bicep": "Bicep files are not sent as they are",
        tmp_path / "data.json": "not an ARM template",
        tmp_path / "nothing.json": "the file does not exist",
        tmp_path: "the folder holds no amlforge.yaml",
    }
    for path, message in cases.items():
        with pytest.raises(UserInputError, match=message):
            load_input(path)
    with pytest.raises(UserInputError, match="parameter 'x' has no 'value'"):
        load_input(tmp_path / "t.json", tmp_path / "p.json")
    with pytest.raises(UserInputError, match="no subscription"):
        check_names(None, "rg", "d")
    with pytest.raises(UserInputError, match="not a valid resource group name"):
        check_names(SUBSCRIPTION, "rg.", "d")
    with pytest.raises(UserInputError, match="not a valid deployment name"):
        check_names(SUBSCRIPTION, "rg", "x" * 65)


def test_no_azure_sdk_on_the_lint_path() -> None:
    """lint, quota (without --live), --help and 'azure --help' import no Azure SDK module."""
    code = textwrap.dedent("""
        import sys
        from amlforge.cli import main
        for args in (["lint", "examples/sklearn-blue-green"], ["quota", "examples/sklearn-blue-green"],
                     ["--help"], ["azure", "--help"], ["azure", "deploy", "--help"]):
            try:
                main(args)
            except SystemExit:
                pass
        loaded = sorted(m for m in sys.modules if m == "azure" or m.startswith("azure."))
        print("AZURE-MODULES:", loaded, file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "AZURE-MODULES: []" in result.stderr, result.stderr[-2000:]
    assert "azure" in result.stdout and "validate" in result.stdout and "--project" in result.stdout


def test_what_if_summary_of_the_rest_example() -> None:
    """The response of PostDeploymentWhatIfOnResourceGroup.json (azure-rest-api-specs, 2021-04-01), plus an
    array change, rendered per resource."""
    from amlforge.integrations.azure.arm import WhatIfSummary

    ids = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my-resource-group/providers/" \
          "Microsoft.ManagedIdentity/userAssignedIdentities/"
    body = {"status": "succeeded", "properties": {"changes": [
        {"resourceId": ids + "myExistingIdentity", "changeType": "Modify",
         "delta": [{"path": "tags.myNewTag", "propertyChangeType": "Create", "after": "my tag value"},
                   {"path": "properties.list", "propertyChangeType": "Array", "children": [
                       {"path": "0", "propertyChangeType": "Modify", "before": "a", "after": "b"}]}]},
        {"resourceId": ids + "myNewIdentity", "changeType": "Create", "after": {"location": "eastus"}},
    ]}}
    summary = WhatIfSummary.from_json(body, "my-resource-group")
    text = summary.render_text()
    assert "  + create     myNewIdentity  (Microsoft.ManagedIdentity/userAssignedIdentities)" in text
    assert "  ~ modify     myExistingIdentity  (Microsoft.ManagedIdentity/userAssignedIdentities)" in text
    assert '        + tags.myNewTag: "my tag value"' in text
    assert '        ~ properties.list:\n            ~ properties.list[0]: "a" => "b"' in text
    assert text.endswith("Resource changes: 1 to create, 1 to modify, 0 to delete, 0 unchanged.\n")
    assert summary.to_dict()["counts"]["Modify"] == 1
