"""Oracle: the generated ARM templates validate against the official ARM JSON schemas
(tests/data/arm-schemas, offline), and deploy in the right order."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from amlforge.generators.resources import DEPLOYMENT_TYPE, ENDPOINT_TYPE
from amlforge.specs.project_spec import DEFAULT_API_VERSION
from tests.generators.arm_schema import SCHEMA_API, validate_template
from tests.generators.conftest import SHOWCASE, SPEC_IDS, SPECS
from tests.generators.semantics import WORKSPACE, evaluate_arm


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_template_validates_against_official_schemas(spec_path: Path, rendered: Any) -> None:
    _, _, files = rendered(spec_path, api_version=SCHEMA_API)
    template = json.loads(files["arm/azuredeploy.json"])
    assert validate_template(template) == []


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_default_api_version_template_validates_as_emitted(spec_path: Path, rendered: Any) -> None:
    """The default api-version is one the official schema snapshot has: no version swap."""
    _, loaded, files = rendered(spec_path)
    template = json.loads(files["arm/azuredeploy.json"])
    assert DEFAULT_API_VERSION == SCHEMA_API
    assert {r["apiVersion"] for r in template["resources"] if r["type"].startswith("Microsoft.Machine")} == {
        loaded.spec.target.api_version}
    assert validate_template(template) == []


def test_target_api_version_still_overrides(rendered: Any) -> None:
    _, _, files = rendered(SHOWCASE, api_version="2024-04-01")
    template = json.loads(files["arm/azuredeploy.json"])
    assert {r["apiVersion"] for r in template["resources"] if r["type"].startswith("Microsoft.Machine")} == {
        "2024-04-01"}


def test_the_validator_rejects_what_it_should(rendered: Any) -> None:
    _, _, files = rendered(SHOWCASE, api_version=SCHEMA_API)
    template = json.loads(files["arm/azuredeploy.json"])
    broken = copy.deepcopy(template)
    endpoint = next(r for r in broken["resources"] if r["type"] == ENDPOINT_TYPE)
    endpoint["properties"]["authMode"] = "Keys"
    assert any("authMode" in e or "onlineEndpoints" in e for e in validate_template(broken))
    broken = copy.deepcopy(template)
    deployment = next(r for r in broken["resources"] if r["type"] == DEPLOYMENT_TYPE)
    deployment["sku"]["capacity"] = "3"
    assert validate_template(broken)
    broken = copy.deepcopy(template)
    broken["contentVersion"] = "1.0"
    assert validate_template(broken)
    nested = next(r for r in broken["resources"] if r["type"] == "Microsoft.Resources/deployments")
    nested["properties"]["template"]["resources"][0]["properties"]["traffic"] = {"blue": "90"}
    assert any("template" in e for e in validate_template(broken))


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_traffic_is_set_after_the_deployments_exist(spec_path: Path, rendered: Any) -> None:
    _, loaded, files = rendered(spec_path)
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    for ep_name, ep in loaded.spec.endpoints.items():
        endpoint_key = (ENDPOINT_TYPE, f"{WORKSPACE}/{ep_name}")
        first = arm["resources"][endpoint_key]["body"]["properties"]
        assert "traffic" not in first and "mirrorTraffic" not in first
        deployments = {(DEPLOYMENT_TYPE, f"{WORKSPACE}/{ep_name}/{d}") for d in ep.deployments}
        for key in deployments:
            assert endpoint_key in arm["resources"][key]["dependsOn"]
        ordered = sorted(deployments)
        for before, after in zip(ordered, ordered[1:]):  # one operation per endpoint at a time
            assert before in arm["resources"][after]["dependsOn"]
        steps = [s for s in arm["traffic"].values() if s["resource"][0] == endpoint_key]
        if ep.traffic is None and ep.mirror_traffic is None:
            assert steps == []
            continue
        (step,) = steps
        assert step["dependsOn"] == deployments
        body = step["resource"][2]
        assert body["properties"].get("traffic") == ep.traffic
        assert body["properties"].get("mirrorTraffic") == ep.mirror_traffic
        # a PUT replaces the resource: the second one repeats the first in full
        assert {k: v for k, v in body["properties"].items() if k not in ("traffic", "mirrorTraffic")} == first
        assert body["identity"] == arm["resources"][endpoint_key]["body"]["identity"]
        assert body["location"] == arm["resources"][endpoint_key]["body"]["location"]


def test_parameters_file_names_the_target(rendered: Any) -> None:
    _, loaded, files = rendered(SHOWCASE)
    params = json.loads(files["arm/azuredeploy.parameters.json"])
    template = json.loads(files["arm/azuredeploy.json"])
    assert params["$schema"].endswith("/deploymentParameters.json#")
    assert params["contentVersion"] == "1.0.0.0"
    assert params["parameters"] == {"workspaceName": {"value": loaded.spec.target.workspace},
                                    "location": {"value": loaded.spec.target.region}}
    assert set(params["parameters"]) <= set(template["parameters"])
    required = {k for k, v in template["parameters"].items() if "defaultValue" not in v}
    assert required <= set(params["parameters"])


def test_registered_assets_are_created_or_referenced(rendered: Any) -> None:
    _, _, files = rendered(SHOWCASE)
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    created = {key for key in arm["resources"]}
    ml = "Microsoft.MachineLearningServices/workspaces"
    assert (f"{ml}/environments/versions", f"{WORKSPACE}/sklearn-env/3") in created
    assert (f"{ml}/models/versions", f"{WORKSPACE}/iris/2") in created
    assert (f"{ml}/models/versions", f"{WORKSPACE}/blob/1") in created
    assert (f"{ml}/codes/versions", f"{WORKSPACE}/scoring/7") in created
    # Docker build contexts are registered from their az-ml YAML; references are not created
    assert not any("/baked/" in name or "/curated/" in name or "iris-registered" in name for _, name in created)
    blue = arm["resources"][(DEPLOYMENT_TYPE, f"{WORKSPACE}/showcase-managed/blue")]["body"]["properties"]
    assert blue["environmentId"].endswith(f"/workspaces/{WORKSPACE}/environments/sklearn-env/versions/3")
    green = arm["resources"][(DEPLOYMENT_TYPE, f"{WORKSPACE}/showcase-managed/green")]["body"]["properties"]
    assert green["environmentId"].endswith(f"/workspaces/{WORKSPACE}/environments/baked/versions/1")
    canary = arm["resources"][(DEPLOYMENT_TYPE, f"{WORKSPACE}/showcase-managed/canary")]["body"]["properties"]
    assert canary["environmentId"] == "azureml://registries/azureml/environments/sklearn-1.5/versions/3"
    ridge = arm["resources"][(DEPLOYMENT_TYPE, f"{WORKSPACE}/showcase-k8s/ridge")]["body"]["properties"]
    assert ridge["model"].endswith(f"/workspaces/{WORKSPACE}/models/iris-registered/versions/4")
    conda = arm["resources"][(f"{ml}/environments/versions", f"{WORKSPACE}/sklearn-env/3")]["body"]["properties"]
    assert conda["condaFile"] == (SHOWCASE.parent / "environment" / "conda.yaml").read_text()
    model = arm["resources"][(f"{ml}/models/versions", f"{WORKSPACE}/iris/2")]["body"]["properties"]
    assert model["modelUri"] == ("azureml://subscriptions/sub/resourcegroups/rg/workspaces/ws/datastores/"
                                 "workspaceblobstore/paths/amlforge/models/iris/2/")


def test_literal_brackets_are_not_evaluated(rendered: Any) -> None:
    _, _, files = rendered(SHOWCASE)
    assert '"[[parameters(\'x\')]"' in files["arm/azuredeploy.json"]
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    model = arm["resources"][("Microsoft.MachineLearningServices/workspaces/models/versions", f"{WORKSPACE}/iris/2")]
    assert model["body"]["properties"]["tags"]["[bracketed]"] == "[parameters('x')]"
