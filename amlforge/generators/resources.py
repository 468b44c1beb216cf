"""The Azure resources of a project, shared by the ARM and Bicep generators.

Both generators render the same :class:`Template`, so the two files describe the same
resources by construction; the oracle tests check that they also parse to the same thing.

What is created, and in which order (``dependsOn`` in ARM, parents and references in Bicep):

1. ``environments/versions`` for image environments (the conda file's text inline),
   ``codes/versions`` and ``models/versions`` for local folders and storage URIs. ARM cannot
   upload files: each local folder gets a URI parameter that defaults to
   ``amlforge/<kind>/<name>/<version>/`` in the workspace's default datastore, where
   ``docs/generate.md`` says how to upload it. Environments built from a Docker context
   (``build``, ``dockerfile: true``) are registered from their az-ml YAML (which uploads
   the context and builds the image) and referred to by id, as are registered references.
2. ``onlineEndpoints`` *without* traffic (traffic can only name deployments that exist).
3. ``onlineEndpoints/deployments``; the deployments of one endpoint one after another, so
   that no two operations on an endpoint run at once (``OperationCanceled``).
4. A traffic step per endpoint with a traffic plan: a nested deployment (ARM) or a module
   (Bicep) that PUTs the endpoint again, in full, with ``traffic`` and ``mirrorTraffic``.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from amlforge.generators._render import (
    RESOURCE_GROUP_LOCATION,
    RESOURCE_GROUP_NAME,
    SUBSCRIPTION_ID,
    Concat,
    Expr,
    Param,
    ResourceRef,
    WorkspaceChildId,
    identifier,
    iso_duration_ms,
    iso_duration_s,
)
from amlforge.generators.inputs import Inputs
from amlforge.specs.project_spec import DeploymentDef, EndpointDef, ProjectSpec, is_uri
from amlforge.specs.references import parse_asset_ref
from amlforge.specs.scale_settings import TargetUtilizationScaleSettings

ML = "Microsoft.MachineLearningServices/workspaces"
ENDPOINT_TYPE = f"{ML}/onlineEndpoints"
DEPLOYMENT_TYPE = f"{ML}/onlineEndpoints/deployments"
NESTED_DEPLOYMENT_API = "2022-09-01"
TRAFFIC_MODULE = "endpoint-traffic.bicep"

_AUTH = {"key": "Key", "aml_token": "AMLToken", "aad_token": "AADToken"}
_IDENTITY = {"system_assigned": "SystemAssigned", "user_assigned": "UserAssigned", "none": "None"}
_ACCESS = {"enabled": "Enabled", "disabled": "Disabled"}


class ParamDef(Struct, frozen=True):
    """A template parameter."""

    name: str
    description: str
    default: Any = None


class Container(Struct, frozen=True):
    """An asset container (``workspaces/models``...) that Bicep names as ``existing`` parent."""

    symbol: str
    type: str
    name: str


class Resource(Struct, frozen=True):
    """One resource below the workspace.

    Attributes:
        symbol: Bicep symbolic name.
        type: Full resource type.
        segments: Names below the workspace (``("my-ep", "blue")``).
        parent: Bicep parent symbol (``ws``, a container, or the endpoint).
        body: ``location``, ``sku``, ``identity``, ``tags``, ``properties`` (in that order).
        after: Symbols this resource must wait for besides its parent and the resources
            its body refers to (the previous deployment of the same endpoint).
    """

    symbol: str
    type: str
    segments: tuple[str, ...]
    parent: str
    body: dict[str, Any]
    after: tuple[str, ...] = ()


class TrafficStep(Struct, frozen=True):
    """The second PUT of an endpoint, with its traffic plan, once its deployments exist."""

    symbol: str
    name: str
    endpoint: str
    endpoint_symbol: str
    body: dict[str, Any]
    after: tuple[str, ...]


class Template(Struct):
    """Everything the ARM and Bicep files declare."""

    api_version: str
    source: str
    params: list[ParamDef] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    traffic: list[TrafficStep] = field(default_factory=list)

    def resource(self, symbol: str) -> Resource:
        """The resource with this symbol."""
        return next(r for r in self.resources if r.symbol == symbol)

    def dependencies(self, resource: Resource) -> list[str]:
        """Every symbol declared in the template that ``resource`` waits for (ARM ``dependsOn``)."""
        declared = {r.symbol for r in self.resources}
        out = [resource.parent] if resource.parent in declared else []
        for symbol in [*references(resource.body), *resource.after]:
            if symbol in declared and symbol not in out:
                out.append(symbol)
        return out

    def explicit_dependencies(self, resource: Resource) -> list[str]:
        """What Bicep must list in ``dependsOn``: dependencies it cannot infer."""
        implicit = {resource.parent, *references(resource.body)}
        return [s for s in resource.after if s not in implicit]

    def names(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """symbol -> (type, segments), for ARM ``resourceId``."""
        return {r.symbol: (r.type, r.segments) for r in self.resources}


def references(value: Any) -> list[str]:
    """Symbols of declared resources that a body refers to (in order of appearance)."""
    out: list[str] = []
    if isinstance(value, ResourceRef):
        out.append(value.symbol)
    elif isinstance(value, Concat):
        for part in value.parts:
            out.extend(references(part))
    elif isinstance(value, dict):
        for item in value.values():
            out.extend(references(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            out.extend(references(item))
    return out


class _Symbols:
    """Unique Bicep identifiers, assigned in sorted order so output is stable."""

    def __init__(self) -> None:
        self.used = {"ws", "workspaceName", "location"}

    def __call__(self, prefix: str, *names: str) -> str:
        base = "_".join([prefix, *(identifier(n).strip("_") or "x" for n in names)])
        symbol, n = base, 2
        while symbol in self.used:
            symbol, n = f"{base}_{n}", n + 1
        self.used.add(symbol)
        return symbol


def _upload_uri(kind: str, name: str, version: str) -> Concat:
    return Concat(("azureml://subscriptions/", SUBSCRIPTION_ID, "/resourcegroups/", RESOURCE_GROUP_NAME,
                   "/workspaces/", Param("workspaceName"),
                   f"/datastores/workspaceblobstore/paths/amlforge/{kind}/{name}/{version}/"))


def _asset_id(reference: str, kind: str) -> Any:
    """An ARM value for a registered asset reference."""
    ref = parse_asset_ref(reference)
    assert ref is not None and ref.version is not None  # the spec validated it
    if ref.form == "registry":
        return reference
    if ref.form == "arm":
        return reference[len("azureml:"):]
    return WorkspaceChildId((kind, ref.name, "versions", ref.version))


def _sorted(mapping: dict[str, Any] | None) -> dict[str, Any]:
    return {k: mapping[k] for k in sorted(mapping)} if mapping else {}


def build_template(inputs: Inputs) -> Template:
    """The resources of a spec, with parameters, in dependency order."""
    spec: ProjectSpec = inputs.spec
    tpl = Template(spec.target.api_version, inputs.spec_name)
    tpl.params.append(ParamDef("workspaceName", "Name of the Azure Machine Learning workspace."))
    tpl.params.append(ParamDef("location", "Region of the workspace; every resource is created there.",
                               RESOURCE_GROUP_LOCATION))
    symbol = _Symbols()
    asset_ids: dict[tuple[str, str], Any] = {}
    uri_params: list[ParamDef] = []

    for name, env in sorted(spec.environments.items()):
        if env.reference is not None:
            asset_ids[("environments", name)] = _asset_id(env.reference, "environments")
        elif env.image is not None and not env.dockerfile:
            container = Container(symbol("environments", name), f"{ML}/environments", name)
            tpl.containers.append(container)
            props: dict[str, Any] = {"image": env.image}
            source = inputs.conda.get(name)
            if env.conda_file is not None:
                props["condaFile"] = source.text if source is not None else ""
            props["osType"] = env.os_type.capitalize()
            if env.description is not None:
                props["description"] = env.description
            if env.tags:
                props["tags"] = _sorted(env.tags)
            res = Resource(symbol("env", name), f"{ML}/environments/versions", (name, env.version), container.symbol,
                           {"properties": props})
            tpl.resources.append(res)
            asset_ids[("environments", name)] = ResourceRef(res.symbol)
        else:  # a Docker build context: registered from the az-ml YAML, which uploads and builds it
            asset_ids[("environments", name)] = WorkspaceChildId(("environments", name, "versions", env.version))

    for name, code in sorted(spec.code.items()):
        if code.reference is not None:
            asset_ids[("codes", name)] = _asset_id(code.reference, "codes")
            continue
        container = Container(symbol("codes", name), f"{ML}/codes", name)
        tpl.containers.append(container)
        param = ParamDef(symbol("codeUri", name), f"Where the folder '{code.path}' (code {name}, version "
                         f"{code.version}) was uploaded.", _upload_uri("code", name, code.version))
        uri_params.append(param)
        props = {"codeUri": Param(param.name)}
        if code.description is not None:
            props["description"] = code.description
        res = Resource(symbol("code", name), f"{ML}/codes/versions", (name, code.version), container.symbol,
                       {"properties": props})
        tpl.resources.append(res)
        asset_ids[("codes", name)] = ResourceRef(res.symbol)

    for name, model in sorted(spec.models.items()):
        if model.reference is not None:
            asset_ids[("models", name)] = _asset_id(model.reference, "models")
            continue
        container = Container(symbol("models", name), f"{ML}/models", name)
        tpl.containers.append(container)
        assert model.path is not None
        if is_uri(model.path):
            uri: Any = model.path
        else:
            param = ParamDef(symbol("modelUri", name), f"Where '{model.path}' (model {name}, version "
                             f"{model.version}) was uploaded.", _upload_uri("models", name, model.version))
            uri_params.append(param)
            uri = Param(param.name)
        props = {"modelUri": uri, "modelType": model.type}
        if model.description is not None:
            props["description"] = model.description
        if model.tags:
            props["tags"] = _sorted(model.tags)
        res = Resource(symbol("model", name), f"{ML}/models/versions", (name, model.version), container.symbol,
                       {"properties": props})
        tpl.resources.append(res)
        asset_ids[("models", name)] = ResourceRef(res.symbol)
    tpl.params.extend(uri_params)

    for ep_name, ep in spec.sorted_endpoints():
        ep_symbol = symbol("endpoint", ep_name)
        body = endpoint_body(ep)
        tpl.resources.append(Resource(ep_symbol, ENDPOINT_TYPE, (ep_name,), "ws", body))
        previous: str | None = None
        deployments = []
        for dep_name, dep in sorted(ep.deployments.items()):
            dep_symbol = symbol("deployment", ep_name, dep_name)
            tpl.resources.append(Resource(
                dep_symbol, DEPLOYMENT_TYPE, (ep_name, dep_name), ep_symbol,
                deployment_body(spec, ep, dep, asset_ids), (previous,) if previous else ()))
            deployments.append(dep_symbol)
            previous = dep_symbol
        if ep.traffic is not None or ep.mirror_traffic is not None:
            props = dict(body["properties"])
            if ep.traffic is not None:
                props["traffic"] = _sorted(ep.traffic)
            if ep.mirror_traffic is not None:
                props["mirrorTraffic"] = _sorted(ep.mirror_traffic)
            step_body = {"location": body["location"], "identity": body["identity"], "tags": body.get("tags", {}),
                         "properties": props}
            tpl.traffic.append(TrafficStep(symbol("traffic", ep_name), f"amlforge-traffic-{ep_name}", ep_name,
                                           ep_symbol, step_body, tuple(deployments)))
    return tpl


def endpoint_body(ep: EndpointDef) -> dict[str, Any]:
    """The endpoint's first PUT: everything but traffic."""
    identity: dict[str, Any] = {"type": _IDENTITY[ep.identity.type if ep.identity else "system_assigned"]}
    if ep.identity is not None and ep.identity.user_assigned_identities:
        identity["userAssignedIdentities"] = {u.resource_id: {} for u in sorted(
            ep.identity.user_assigned_identities, key=lambda u: u.resource_id)}
    body: dict[str, Any] = {"location": Param("location"), "identity": identity}
    if ep.tags:
        body["tags"] = _sorted(ep.tags)
    props: dict[str, Any] = {"authMode": _AUTH[ep.auth_mode]}
    if ep.description is not None:
        props["description"] = ep.description
    if ep.compute is not None:
        props["compute"] = WorkspaceChildId(("computes", ep.compute))
    if ep.public_network_access is not None:
        props["publicNetworkAccess"] = _ACCESS[ep.public_network_access]
    body["properties"] = props
    return body


def _probe(probe: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field_name, key in (("initial_delay", "initialDelay"), ("period", "period"), ("timeout", "timeout")):
        if field_name in probe.model_fields_set:
            out[key] = iso_duration_s(getattr(probe, field_name))
    for field_name, key in (("success_threshold", "successThreshold"), ("failure_threshold", "failureThreshold")):
        if field_name in probe.model_fields_set:
            out[key] = getattr(probe, field_name)
    return out


def deployment_body(spec: ProjectSpec, ep: EndpointDef, dep: DeploymentDef, asset_ids: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """A deployment's PUT body (the az-ml YAML -> ARM mapping of the reference, section 5.3)."""
    body: dict[str, Any] = {"location": Param("location")}
    # as azure-ai-ml sends it: sku.name "Default", sku.capacity = instance_count when given
    body["sku"] = {"name": "Default", "capacity": dep.instance_count} if dep.instance_count is not None else {"name": "Default"}
    if dep.tags:
        body["tags"] = _sorted(dep.tags)
    props: dict[str, Any] = {"endpointComputeType": "Kubernetes" if ep.kind == "kubernetes" else "Managed"}
    if dep.description is not None:
        props["description"] = dep.description
    if dep.model is not None:
        props["model"] = asset_ids[("models", dep.model)]
    if dep.model_mount_path is not None:
        props["modelMountPath"] = dep.model_mount_path
    if dep.code is not None and dep.scoring_script is not None:
        props["codeConfiguration"] = {"codeId": asset_ids[("codes", dep.code)], "scoringScript": dep.scoring_script}
    if dep.environment is not None:
        props["environmentId"] = asset_ids[("environments", dep.environment)]
    if dep.environment_variables:
        props["environmentVariables"] = _sorted(dep.environment_variables)
    if dep.instance_type is not None:
        props["instanceType"] = dep.instance_type
    props["appInsightsEnabled"] = dep.app_insights_enabled
    if dep.egress_public_network_access is not None:
        props["egressPublicNetworkAccess"] = _ACCESS[dep.egress_public_network_access]
    rs = dep.request_settings
    if rs is not None:
        request: dict[str, Any] = {}
        if "request_timeout_ms" in rs.model_fields_set:
            request["requestTimeout"] = iso_duration_ms(rs.request_timeout_ms)
        if "max_concurrent_requests_per_instance" in rs.model_fields_set:
            request["maxConcurrentRequestsPerInstance"] = rs.max_concurrent_requests_per_instance
        if rs.max_queue_wait_ms is not None:
            request["maxQueueWait"] = iso_duration_ms(rs.max_queue_wait_ms)
        props["requestSettings"] = request
    if dep.liveness_probe is not None:
        props["livenessProbe"] = _probe(dep.liveness_probe)
    if dep.readiness_probe is not None:
        props["readinessProbe"] = _probe(dep.readiness_probe)
    if dep.startup_probe is not None:  # api-version 2025-12-01+ (the spec refuses it before)
        props["startupProbe"] = _probe(dep.startup_probe)
    ss = dep.scale_settings
    if isinstance(ss, TargetUtilizationScaleSettings):
        scale: dict[str, Any] = {"scaleType": "TargetUtilization"}
        for field_name, key in (("min_instances", "minInstances"), ("max_instances", "maxInstances"),
                                ("target_utilization_percentage", "targetUtilizationPercentage")):
            if field_name in ss.model_fields_set:
                scale[key] = getattr(ss, field_name)
        if "polling_interval" in ss.model_fields_set:
            scale["pollingInterval"] = iso_duration_s(ss.polling_interval)
        props["scaleSettings"] = scale
    elif ss is not None:
        props["scaleSettings"] = {"scaleType": "Default"}
    if dep.resources is not None:
        requirements: dict[str, Any] = {}
        for section, key in (("requests", "containerResourceRequests"), ("limits", "containerResourceLimits")):
            settings = getattr(dep.resources, section)
            if settings is not None:
                requirements[key] = {k: getattr(settings, k) for k in ("cpu", "memory", "gpu")
                                     if getattr(settings, k) is not None}
        props["containerResourceRequirements"] = requirements
    body["properties"] = props
    return body


__all__ = [
    "Container",
    "DEPLOYMENT_TYPE",
    "ENDPOINT_TYPE",
    "Expr",
    "NESTED_DEPLOYMENT_API",
    "ParamDef",
    "Resource",
    "TRAFFIC_MODULE",
    "Template",
    "TrafficStep",
    "build_template",
    "deployment_body",
    "endpoint_body",
    "references",
]
