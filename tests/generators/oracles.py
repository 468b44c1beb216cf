"""Every oracle on one rendered project, so that examples, injection and property tests share them.

* azure-ai-ml loads each az-ml YAML file (both stages) and the objects match the spec;
* the REST bodies azure-ai-ml would send equal the generated ARM resources;
* the ARM template validates against the official schemas;
* the Bicep file parses with pycep-parser and evaluates to the same resources as the ARM template;
* Dockerfiles pass hadolint with no findings and parse with dockerfile-parse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from amlforge.generators.resources import DEPLOYMENT_TYPE, ENDPOINT_TYPE
from amlforge.specs.project_spec import LoadedSpec, ProjectSpec, is_uri
from tests.generators.arm_schema import validate_template
from tests.generators.semantics import WORKSPACE, evaluate_arm, evaluate_bicep


def sdk_load(path: Path, kind: str) -> Any:
    from tests.oracles.test_azureml_loaders import sdk_load as load

    return load(path, kind)


def _kind(rel: str) -> str:
    return rel.rsplit(".", 2)[-2]


def _same_path(raw: Any, base: Path, expected: Path) -> bool:
    path = Path(raw)
    return (path if path.is_absolute() else base / path).resolve() == expected.resolve()


def check_endpoint(obj: Any, spec: ProjectSpec, name: str) -> None:
    ep = spec.endpoints[name]
    assert obj.name == name
    assert obj.auth_mode == ep.auth_mode
    assert (obj.traffic or {}) == (ep.traffic or {})
    assert (obj.mirror_traffic or {}) == (ep.mirror_traffic or {})
    assert obj.description == ep.description
    assert (obj.tags or {}) == (ep.tags or {})
    if ep.kind == "kubernetes":
        assert type(obj).__name__ == "KubernetesOnlineEndpoint"
        assert str(obj.compute).removeprefix("azureml:") == ep.compute
    else:
        assert type(obj).__name__ == "ManagedOnlineEndpoint"
        if ep.public_network_access is not None:
            assert obj.public_network_access == ep.public_network_access
    if ep.identity is not None:
        assert obj.identity.type == ep.identity.type
        ids = [u.resource_id for u in obj.identity.user_assigned_identities or []]
        assert ids == [u.resource_id for u in ep.identity.user_assigned_identities or []]


def check_deployment(obj: Any, spec: ProjectSpec, folder: Path, yaml_dir: Path, ep_name: str, name: str) -> None:
    ep = spec.endpoints[ep_name]
    dep = ep.deployments[name]
    assert (obj.name, obj.endpoint_name) == (name, ep_name)
    assert type(obj).__name__ == ("KubernetesOnlineDeployment" if ep.kind == "kubernetes" else "ManagedOnlineDeployment")
    assert obj.instance_type == dep.instance_type
    assert obj.instance_count == dep.instance_count
    assert obj.description == dep.description
    assert (obj.tags or {}) == (dep.tags or {})
    assert (obj.environment_variables or {}) == (dep.environment_variables or {})
    assert bool(obj.app_insights_enabled) == dep.app_insights_enabled
    assert obj.model_mount_path == dep.model_mount_path
    if dep.model is None:
        assert obj.model is None
    else:
        model = spec.models[dep.model]
        if model.reference is not None:
            assert str(obj.model).removeprefix("azureml:") == model.reference.removeprefix("azureml:")
        else:
            assert (obj.model.name, obj.model.version, obj.model.type) == (dep.model, model.version, model.type)
            assert obj.model.description == model.description
            assert (obj.model.tags or {}) == (model.tags or {})
            if is_uri(model.path):
                assert obj.model.path == model.path
            else:
                assert _same_path(obj.model.path, yaml_dir, folder / model.path)
    if dep.code is None:
        assert obj.code_configuration is None
    else:
        code = spec.code[dep.code]
        assert obj.code_configuration.scoring_script == dep.scoring_script
        if code.reference is not None:
            assert str(obj.code_configuration.code).removeprefix("azureml:") == code.reference.removeprefix("azureml:")
        else:
            assert _same_path(obj.code_configuration.code, yaml_dir, folder / code.path)
    if dep.environment is None:
        assert obj.environment is None
    else:
        env = spec.environments[dep.environment]
        # the SDK's pre-send stage drops the azureml: prefix of short references
        want = env.reference or f"azureml:{dep.environment}:{env.version}"
        assert str(obj.environment).removeprefix("azureml:") == want.removeprefix("azureml:")
    for field in ("request_settings", "liveness_probe", "readiness_probe"):
        given = getattr(dep, field)
        if given is not None:
            for key in given.model_fields_set:
                assert getattr(getattr(obj, field), key) == getattr(given, key), (field, key)
    if dep.scale_settings is not None:
        assert obj.scale_settings.type == dep.scale_settings.type
        for key in dep.scale_settings.model_fields_set - {"type"}:
            assert getattr(obj.scale_settings, key) == getattr(dep.scale_settings, key)
    if dep.resources is not None:
        for section in ("requests", "limits"):
            given = getattr(dep.resources, section)
            if given is not None:
                got = getattr(obj.resources, section)
                assert (got.cpu, got.memory, got.gpu) == (given.cpu, given.memory, given.gpu)


def check_environment(obj: Any, spec: ProjectSpec, folder: Path, out: Path, yaml_dir: Path, name: str,
                      conda_text: str | None) -> None:
    env = spec.environments[name]
    assert (obj.name, obj.version) == (name, env.version)
    assert obj.description == env.description
    assert (obj.tags or {}) == (env.tags or {})
    if env.dockerfile:
        assert _same_path(obj.build.path, yaml_dir, out / "docker" / name)
        assert obj.inference_config is not None
        assert obj.image is None
    elif env.image is not None:
        assert obj.image == env.image
        if env.conda_file is not None:
            assert obj.conda_file == yaml.safe_load(conda_text or "")
    else:
        assert _same_path(obj.build.path, yaml_dir, folder / env.build.path)
        assert obj.build.dockerfile_path == env.build.dockerfile_path
        routes = env.inference_config
        if routes is not None:
            assert obj.inference_config["livenessRoute"] == routes.liveness_route.model_dump()
            assert obj.inference_config["scoringRoute"] == routes.scoring_route.model_dump()


def _normal(value: Any) -> Any:
    """Compare REST values across SDK and template: enum casing differs (the service accepts both)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in ({}, None)}
    if isinstance(value, str) and value.lower() in ("enabled", "disabled"):
        return value.lower()
    return value


def check_rest_matches_arm(kind: str, obj: Any, arm: dict[str, Any], ep_name: str, name: str) -> None:
    """The REST body azure-ai-ml would send equals the generated ARM resource (asset ids aside:
    the SDK only knows them after uploading)."""
    if kind == "deployment":
        rest = dict(obj._to_rest_object(location="westeurope"))
        got = _normal(rest["properties"].as_dict())
        resource = arm["resources"][(DEPLOYMENT_TYPE, f"{WORKSPACE}/{ep_name}/{name}")]
        want = _normal(resource["body"]["properties"])
        want.pop("startupProbe", None)  # ARM and Bicep only: az-ml YAML (azure-ai-ml 1.35) has no startup_probe
        for props in (got, want):
            props.pop("model", None)
            props.pop("environmentId", None)
            if "codeConfiguration" in props:
                props["codeConfiguration"].pop("codeId", None)
        assert got == want
        sku = rest.get("sku")
        assert (sku.as_dict() if sku is not None else None) == resource["body"].get("sku")
    else:
        rest = dict(obj._to_rest_online_endpoint(location="westeurope"))
        got = _normal(rest["properties"].as_dict())
        steps = [s for s in arm["traffic"].values() if s["resource"][0] == (ENDPOINT_TYPE, f"{WORKSPACE}/{ep_name}")]
        body = steps[0]["resource"][2] if steps else arm["resources"][(ENDPOINT_TYPE, f"{WORKSPACE}/{ep_name}")]["body"]
        want = _normal(body["properties"])
        compute = got.pop("compute", None)
        if compute is not None:
            assert want.pop("compute").endswith(f"/computes/{compute.removeprefix('azureml:')}")
        assert got == want
        assert _normal(rest["identity"].as_dict()) == _normal(body["identity"])
        assert (rest.get("tags") or {}) == (body.get("tags") or {})



def check_yaml(out: Path, loaded: LoadedSpec, files: dict[str, str], arm: dict[str, Any]) -> None:
    """azure-ai-ml loads every az-ml file; objects match the spec; REST bodies match ARM."""
    spec, folder, yaml_dir = loaded.spec, loaded.folder, out / "azureml"
    conda = {name: (out / "docker" / name / "conda.yaml").read_text() if env.dockerfile else
             (folder / env.conda_file).read_text()
             for name, env in spec.environments.items() if env.conda_file}
    seen = {"endpoint": 0, "deployment": 0, "environment": 0}
    for rel in files:
        if not rel.startswith("azureml/"):
            continue
        kind = _kind(rel)
        obj = sdk_load(out / rel, kind)
        stem = Path(rel).name[: -len(f".{kind}.yml")]
        if kind == "endpoint":
            check_endpoint(obj, spec, stem)
            check_rest_matches_arm(kind, obj, arm, stem, stem)
        elif kind == "deployment":
            ep_name, name = stem.split(".")
            check_deployment(obj, spec, folder, yaml_dir, ep_name, name)
            check_rest_matches_arm(kind, obj, arm, ep_name, name)
        else:
            check_environment(obj, spec, folder, out, yaml_dir, stem, conda.get(stem))
        seen[kind] += 1
    assert seen["endpoint"] == len(spec.endpoints)
    assert seen["deployment"] == sum(len(e.deployments) for e in spec.endpoints.values())
    assert seen["environment"] == sum(1 for e in spec.environments.values() if e.reference is None)


def check_docker(out: Path, spec: ProjectSpec) -> None:
    """hadolint finds nothing; dockerfile-parse reads the base image and the AZUREML variables."""
    from dockerfile_parse import DockerfileParser

    from tests.generators.test_docker_oracle import lint_dockerfile

    for name, env in spec.environments.items():
        if env.dockerfile:
            path = out / "docker" / name / "Dockerfile"
            assert lint_dockerfile(path) == []
            parsed = DockerfileParser(str(path))
            assert parsed.baseimage == env.image
            assert {"AZUREML_MODEL_DIR", "AZUREML_ENTRY_SCRIPT"} <= set(parsed.envs)


def check_all(out: Path, loaded: LoadedSpec, files: dict[str, str]) -> None:
    """Every oracle on a rendered project (files already written under ``out``)."""
    template = json.loads(files["arm/azuredeploy.json"])
    arm = evaluate_arm(template)
    check_yaml(out, loaded, files, arm)
    assert validate_template(template) == []  # as emitted: the api-version must be one the schema has
    bicep = evaluate_bicep(out / "bicep" / "main.bicep")
    assert bicep == arm
    check_docker(out, loaded.spec)
