"""Discovery, classification, overrides and grouping."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.specs.loader import LoadOptions, classify, load_project
from amlforge.specs.references import parse_asset_ref

DEP = "name: blue\nendpoint_name: my-ep\ninstance_type: Standard_DS3_v2\ninstance_count: 3\n"


@pytest.mark.parametrize(("data", "kind"), [
    ({"$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json"}, "managed_endpoint"),
    ({"$schema": "https://azuremlsdk2.blob.core.windows.net/latest/managedOnlineDeployment.schema.json"},
     "managed_deployment"),
    ({"$schema": "https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json",
      "type": "kubernetes"}, "kubernetes_deployment"),
    ({"$schema": "https://azuremlschemas.azureedge.net/latest/environment.schema.json"}, "environment"),
    ({"$schema": "https://azuremlschemas.azureedge.net/latest/model.schema.json"}, "model"),
    ({"$schema": "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"}, None),
    ({"name": "ep", "auth_mode": "key"}, "managed_endpoint"),
    ({"name": "ep", "compute": "azureml:k8s"}, "kubernetes_endpoint"),
    ({"name": "b", "endpoint_name": "ep", "type": "Kubernetes"}, "kubernetes_deployment"),
    ({"name": "b", "instance_type": "Standard_DS3_v2"}, "managed_deployment"),
    ({"image": "python:3.11"}, "environment"),
    ({"path": "./model", "type": "mlflow_model"}, "model"),
    ({"name": "env", "channels": ["conda-forge"], "dependencies": ["python=3.11"]}, None),
    ({"on": "push", "jobs": {}}, None),
])
def test_classify(data: dict, kind: str | None) -> None:
    assert classify(data) == kind


def test_set_overrides_fill_deploy_time_values(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text("instance_type: Standard_DS3_v2\ninstance_count: 3\n")
    result = load_project([tmp_path / "d.yml"], LoadOptions(
        root=tmp_path, overrides=[("name", "blue"), ("endpoint_name", "my-ep"), ("request_settings.request_timeout_ms", "9000")]))
    [dep] = result.project.deployments
    assert (dep.spec.name, dep.spec.endpoint_name) == ("blue", "my-ep")
    assert dep.spec.request_settings.request_timeout_ms == 9000
    assert result.project.groups["my-ep"].deployments == [dep]


def test_vars_fill_placeholders(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(DEP.replace("my-ep", "{{EP}}"))
    result = load_project([tmp_path], LoadOptions(root=tmp_path, variables={"EP": "prod-ep"}))
    assert result.project.deployments[0].spec.endpoint_name == "prod-ep"


def test_deployments_group_under_their_endpoint_case_insensitively(tmp_path: Path) -> None:
    (tmp_path / "ep.yml").write_text("name: My-Ep\nauth_mode: key\ntraffic: {blue: 100}\n")
    (tmp_path / "blue.yml").write_text(DEP)
    (tmp_path / "green.yml").write_text(DEP.replace("blue", "green"))
    project = load_project([tmp_path], LoadOptions(root=tmp_path)).project
    group = project.groups["my-ep"]
    assert group.endpoint is not None and group.endpoint.spec.name == "My-Ep"
    assert sorted(d.spec.name for d in group.deployments) == ["blue", "green"]
    assert group.deployment("BLUE").spec.name == "blue"


def test_inline_environment_and_model_are_collected_with_their_path(tmp_path: Path) -> None:
    (tmp_path / "d.yml").write_text(DEP + "model:\n  path: ./m\nenvironment:\n  image: python:3.11\n")
    project = load_project([tmp_path], LoadOptions(root=tmp_path)).project
    [env] = project.environments
    [model] = project.models
    assert env.prefix == ("environment",) and str(env.at("image").location()).endswith(":8:10")
    assert model.at("path").location().line == 6


def test_auth_mode_and_enums_accept_the_cli_casings(tmp_path: Path) -> None:
    (tmp_path / "ep.yml").write_text("name: my-ep\nauth_mode: AMLToken\nidentity: {type: SystemAssigned}\n")
    result = load_project([tmp_path], LoadOptions(root=tmp_path))
    assert not result.problems
    spec = result.project.endpoints[0].spec
    assert (spec.auth_mode, spec.identity.type) == ("aml_token", "system_assigned")


def test_kubernetes_gpu_alias(tmp_path: Path) -> None:
    (tmp_path / "k.yml").write_text(
        "name: k\nendpoint_name: ep\ntype: kubernetes\nresources:\n  limits:\n    nvidia.com/gpu: \"1\"\n")
    result = load_project([tmp_path], LoadOptions(root=tmp_path))
    assert not result.problems
    assert result.project.deployments[0].spec.resources.limits.gpu == "1"


@pytest.mark.parametrize(("ref", "form", "name", "version", "label"), [
    ("azureml:m:3", "short", "m", "3", None),
    ("azureml:m@latest", "short", "m", None, "latest"),
    ("azureml://registries/azureml/models/phi/versions/2", "registry", "phi", "2", None),
    ("azureml://registries/azureml/models/phi/labels/latest", "registry", "phi", None, "latest"),
    ("azureml:/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/models/m/versions/4",
     "arm", "m", "4", None),
])
def test_asset_references(ref: str, form: str, name: str, version: str | None, label: str | None) -> None:
    parsed = parse_asset_ref(ref)
    assert parsed is not None
    assert (parsed.form, parsed.name, parsed.version, parsed.label) == (form, name, version, label)


@pytest.mark.parametrize("ref", ["my-model:1", "azureml:", "models/m/versions/1"])
def test_not_asset_references(ref: str) -> None:
    assert parse_asset_ref(ref) is None


ENDPOINT = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: ep\nauth_mode: key\n"
INLINE_ENV = DEP + "model: azureml:m:1\nenvironment:\n  image: x.azurecr.io/img:1\n"


def _set(tmp_path: Path, *pairs: tuple[str, str]):
    (tmp_path / "endpoint.yml").write_text(ENDPOINT)
    (tmp_path / "blue.yml").write_text(INLINE_ENV)
    (tmp_path / "env.yml").write_text("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                      "name: env\nversion: '1'\nimage: y.azurecr.io/img:1\n")
    return load_project([tmp_path], LoadOptions(root=tmp_path, overrides=list(pairs))).project


def test_set_endpoint_name_applies_to_deployments_only(tmp_path: Path) -> None:
    project = _set(tmp_path, ("endpoint_name", "other-ep"))
    [ep] = project.endpoints
    assert ep.spec.name == "ep" and "endpoint_name" not in ep.doc.data  # no unknown-field error either
    assert project.deployments[0].spec.endpoint_name == "other-ep"


def test_set_with_a_kind_prefix_applies_to_that_kind(tmp_path: Path) -> None:
    project = _set(tmp_path, ("deployment:name", "green"), ("endpoint:auth_mode", "aml_token"),
                   ("environment:image", "z.azurecr.io/img:2"))
    assert [d.spec.name for d in project.deployments] == ["green"]
    assert project.endpoints[0].spec.name == "ep" and project.endpoints[0].spec.auth_mode == "aml_token"
    images = sorted(e.spec.image for e in project.environments)
    assert images == ["z.azurecr.io/img:2", "z.azurecr.io/img:2"]  # the standalone and the inline one


def test_set_name_without_prefix_applies_to_every_kind_with_a_name(tmp_path: Path) -> None:
    project = _set(tmp_path, ("name", "x"))
    assert project.endpoints[0].spec.name == "x" and project.deployments[0].spec.name == "x"


@pytest.mark.parametrize(("pair", "words"), [
    (("x", "[x"), "not valid YAML"),
    (("pipeline:name", "x"), "unknown kind"),
    (("a..b", "1"), "empty part"),
])
def test_bad_set_is_a_usage_error(tmp_path: Path, pair: tuple[str, str], words: str) -> None:
    from amlforge.errors import UserInputError

    with pytest.raises(UserInputError, match=words) as err:
        _set(tmp_path, pair)
    assert err.value.hint


def test_bad_set_exits_2_with_a_hint(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "blue.yml").write_text(INLINE_ENV)
    result = run_cli("lint", "--set", "x=[x", "blue.yml", cwd=tmp_path)
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_colon_inside_a_dotted_key_is_not_a_kind(tmp_path: Path) -> None:
    project = _set(tmp_path, ("tags.team:ml", "scoring"))
    assert project.deployments[0].doc.data["tags"] == {"team:ml": "scoring"}
