"""az-ml (CLI v2) YAML: one file per endpoint, per deployment and per environment.

Layout, below the output folder::

    azureml/<endpoint>.endpoint.yml
    azureml/<endpoint>.<deployment>.deployment.yml
    azureml/<environment>.environment.yml

Deployments refer to environments by ``azureml:<name>:<version>`` (the environment files
register them); models are inline with their name and version, so creating a deployment
registers its model; code folders are inline (az-ml YAML has no name for them). Local paths
are rebased from the spec's folder to the ``azureml/`` folder.
"""

from __future__ import annotations

from typing import Any

from amlforge.generators._render import render
from amlforge.generators.inputs import DOCKER_DIR, YAML_DIR, Inputs
from amlforge.specs.project_spec import DeploymentDef, EndpointDef, EnvironmentDef, is_uri

SCHEMA_BASE = "https://azuremlschemas.azureedge.net/latest/"
#: The inference server's port and routes in a generated Dockerfile image.
SERVER_PORT = 5001
LIVENESS_PATH, SCORING_PATH = "/", "/score"


def endpoint_file(endpoint: str) -> str:
    """Path of an endpoint's YAML below the output folder."""
    return f"{YAML_DIR}/{endpoint}.endpoint.yml"


def deployment_file(endpoint: str, deployment: str) -> str:
    """Path of a deployment's YAML below the output folder."""
    return f"{YAML_DIR}/{endpoint}.{deployment}.deployment.yml"


def environment_file(environment: str) -> str:
    """Path of an environment's YAML below the output folder."""
    return f"{YAML_DIR}/{environment}.environment.yml"


def _sorted(mapping: dict[str, Any] | None) -> dict[str, Any]:
    return {k: mapping[k] for k in sorted(mapping)} if mapping else {}


def _local(inputs: Inputs, path: str) -> str:
    return path if is_uri(path) else inputs.rebase(path, 1)


def environment_ref(inputs: Inputs, name: str) -> str:
    """How a deployment names an environment of the spec."""
    env = inputs.spec.environments[name]
    return env.reference if env.reference is not None else f"azureml:{name}:{env.version}"


def endpoint_doc(inputs: Inputs, name: str) -> dict[str, Any]:
    """The endpoint as az-ml YAML data (key order as in the az-ml docs)."""
    ep: EndpointDef = inputs.spec.endpoints[name]
    doc: dict[str, Any] = {"name": name}
    if ep.description is not None:
        doc["description"] = ep.description
    if ep.tags:
        doc["tags"] = _sorted(ep.tags)
    if ep.kind == "kubernetes":
        doc["compute"] = f"azureml:{ep.compute}"
    doc["auth_mode"] = ep.auth_mode
    if ep.identity is not None:
        identity: dict[str, Any] = {"type": ep.identity.type}
        if ep.identity.user_assigned_identities:
            identity["user_assigned_identities"] = [{"resource_id": u.resource_id}
                                                    for u in ep.identity.user_assigned_identities]
        doc["identity"] = identity
    if ep.public_network_access is not None:
        doc["public_network_access"] = ep.public_network_access
    if ep.traffic is not None:
        doc["traffic"] = _sorted(ep.traffic)
    if ep.mirror_traffic is not None:
        doc["mirror_traffic"] = _sorted(ep.mirror_traffic)
    return doc


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True, by_alias=True, mode="json")


def deployment_doc(inputs: Inputs, endpoint: str, name: str) -> dict[str, Any]:
    """A deployment as az-ml YAML data."""
    spec = inputs.spec
    ep = spec.endpoints[endpoint]
    dep: DeploymentDef = ep.deployments[name]
    doc: dict[str, Any] = {"name": name, "endpoint_name": endpoint}
    if ep.kind == "kubernetes":
        doc["type"] = "kubernetes"
    if dep.description is not None:
        doc["description"] = dep.description
    if dep.tags:
        doc["tags"] = _sorted(dep.tags)
    if dep.model is not None:
        model = spec.models[dep.model]
        if model.reference is not None:
            doc["model"] = model.reference
        else:
            inline: dict[str, Any] = {"name": dep.model, "version": model.version, "type": model.type}
            if model.description is not None:
                inline["description"] = model.description
            if model.tags:
                inline["tags"] = _sorted(model.tags)
            inline["path"] = _local(inputs, model.path or "")
            doc["model"] = inline
    if dep.model_mount_path is not None:
        doc["model_mount_path"] = dep.model_mount_path
    if dep.code is not None and dep.scoring_script is not None:
        code = spec.code[dep.code]
        doc["code_configuration"] = {
            "code": code.reference if code.reference is not None else _local(inputs, code.path or ""),
            "scoring_script": dep.scoring_script,
        }
    if dep.environment is not None:
        doc["environment"] = environment_ref(inputs, dep.environment)
    if dep.instance_type is not None:
        doc["instance_type"] = dep.instance_type
    if dep.instance_count is not None:
        doc["instance_count"] = dep.instance_count
    if dep.app_insights_enabled:
        doc["app_insights_enabled"] = True
    if dep.egress_public_network_access is not None:
        doc["egress_public_network_access"] = dep.egress_public_network_access
    if dep.environment_variables:
        doc["environment_variables"] = _sorted(dep.environment_variables)
    for field in ("request_settings", "liveness_probe", "readiness_probe"):
        value = getattr(dep, field)
        if value is not None:
            doc[field] = _dump(value)
    if dep.scale_settings is not None:
        doc["scale_settings"] = {"type": dep.scale_settings.type, **_dump(dep.scale_settings)}
    if dep.resources is not None:
        doc["resources"] = _dump(dep.resources)
    return doc


def environment_doc(inputs: Inputs, name: str) -> dict[str, Any]:
    """An environment as az-ml YAML data."""
    env: EnvironmentDef = inputs.spec.environments[name]
    doc: dict[str, Any] = {"name": name, "version": env.version}
    if env.description is not None:
        doc["description"] = env.description
    if env.tags:
        doc["tags"] = _sorted(env.tags)
    if env.dockerfile:
        doc["build"] = {"path": f"../{DOCKER_DIR}/{name}", "dockerfile_path": "Dockerfile"}
        route = {"port": SERVER_PORT, "path": LIVENESS_PATH}
        doc["inference_config"] = {"liveness_route": route, "readiness_route": dict(route),
                                   "scoring_route": {"port": SERVER_PORT, "path": SCORING_PATH}}
    elif env.image is not None:
        doc["image"] = env.image
        if env.conda_file is not None:
            source = inputs.conda.get(name)
            doc["conda_file"] = inputs.rebase(source.path if source else env.conda_file, 1)
    elif env.build is not None:
        doc["build"] = {"path": _local(inputs, env.build.path), "dockerfile_path": env.build.dockerfile_path}
        if env.inference_config is not None:
            doc["inference_config"] = _dump(env.inference_config)
    if "os_type" in env.model_fields_set:
        doc["os_type"] = env.os_type
    return doc


def render_endpoint_yaml(inputs: Inputs, name: str) -> str:
    """``azureml/<endpoint>.endpoint.yml``."""
    ep = inputs.spec.endpoints[name]
    kind = "kubernetes" if ep.kind == "kubernetes" else "managed"
    return render("azureml/endpoint.yml.j2", doc=endpoint_doc(inputs, name), source=inputs.spec_name,
                  schema=f"{SCHEMA_BASE}{kind}OnlineEndpoint.schema.json", file_name=endpoint_file(name).split("/")[-1],
                  has_mirror=ep.mirror_traffic is not None)


def render_deployment_yaml(inputs: Inputs, endpoint: str, name: str) -> str:
    """``azureml/<endpoint>.<deployment>.deployment.yml``."""
    kind = "kubernetes" if inputs.spec.endpoints[endpoint].kind == "kubernetes" else "managed"
    return render("azureml/deployment.yml.j2", doc=deployment_doc(inputs, endpoint, name), source=inputs.spec_name,
                  schema=f"{SCHEMA_BASE}{kind}OnlineDeployment.schema.json",
                  file_name=deployment_file(endpoint, name).split("/")[-1],
                  startup_probe=inputs.spec.endpoints[endpoint].deployments[name].startup_probe is not None)


def render_environment_yaml(inputs: Inputs, name: str) -> str:
    """``azureml/<environment>.environment.yml``."""
    return render("azureml/environment.yml.j2", doc=environment_doc(inputs, name), source=inputs.spec_name,
                  file_name=environment_file(name).split("/")[-1])


def generate_yaml(inputs: Inputs) -> dict[str, str]:
    """Every az-ml YAML file of the project: relative path -> text."""
    files: dict[str, str] = {}
    spec = inputs.spec
    for name, env in sorted(spec.environments.items()):
        if env.reference is None:
            files[environment_file(name)] = render_environment_yaml(inputs, name)
    for ep_name, ep in spec.sorted_endpoints():
        files[endpoint_file(ep_name)] = render_endpoint_yaml(inputs, ep_name)
        for dep_name in sorted(ep.deployments):
            files[deployment_file(ep_name, dep_name)] = render_deployment_yaml(inputs, ep_name, dep_name)
    return files


__all__ = [
    "SERVER_PORT",
    "deployment_doc",
    "deployment_file",
    "endpoint_doc",
    "endpoint_file",
    "environment_doc",
    "environment_file",
    "environment_ref",
    "generate_yaml",
    "render_deployment_yaml",
    "render_endpoint_yaml",
    "render_environment_yaml",
]
