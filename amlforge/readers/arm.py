"""The ARM JSON reader: deployment templates into az-ml-shaped documents.

A ``.json`` file whose ``$schema`` is a ``deploymentTemplate.json`` is read with positions
(``jsonpos.py``); its parameters come from ``--parameters FILE``, else from the sibling
``<stem>.parameters.json`` (``azuredeploy.json`` -> ``azuredeploy.parameters.json``), else from
each parameter's ``defaultValue``. Every resource of a Machine Learning type below a workspace
(online endpoints and deployments, model, environment and code versions) becomes the document
the az-ml YAML of the same resource would be, wherever it is declared: top level, a child in
``resources``, inside a nested ``Microsoft.Resources/deployments`` (``inner`` or ``outer``
scope), or in a ``copy`` loop (one document per iteration). ARM expressions are evaluated by
``arm_expr.py``; a value it cannot know is recorded in ``SourceMap.unknown``, so no rule guesses
with it. Every value's position is the line and column of the template value it came from.

A resource declared twice (the endpoint's second PUT that sets ``traffic`` once the
deployments exist) gives one document: the last declaration is what Azure ends with.

The az-ml <- ARM mapping is the reverse of ``generators/resources.py``.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from msgspec import Struct

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers.arm_expr import ArmSyntaxError, ResourceId, Scope, evaluate, is_expression
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult, Unknown
from amlforge.readers.jsonpos import JsonPositions, parse_json
from amlforge.specs.files import is_regular_file
from amlforge.specs.project import Document
from amlforge.specs.source import SourceMap, read_text

ML = "microsoft.machinelearningservices/workspaces"
_KINDS = {
    f"{ML}/onlineendpoints": "endpoint",
    f"{ML}/onlineendpoints/deployments": "deployment",
    f"{ML}/models/versions": "model",
    f"{ML}/environments/versions": "environment",
    f"{ML}/codes/versions": "code",
}
NESTED = "microsoft.resources/deployments"
#: Most iterations of one copy loop (ARM's own limit is 800).
MAX_COPY = 800
#: Most resources (after copy loops) one template may expand to.
MAX_RESOURCES = 5_000
#: Deepest nesting of child resources and nested deployments followed.
MAX_NESTING = 10

_SNIFF = LazyPattern(rb"deployment(Template|Parameters)\.json", re.I)
_AUTH = {"key": "key", "amltoken": "aml_token", "aadtoken": "aad_token"}
_IDENTITY = {"systemassigned": "system_assigned", "userassigned": "user_assigned", "none": "none",
             "systemassigned,userassigned": "system_assigned,user_assigned"}
_DURATION = LazyPattern(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.I)
_ID = LazyPattern(r"/workspaces/(?P<ws>[^/]+)/(?P<kind>models|environments|codes|computes)/(?P<name>[^/]+)"
                 r"(?:/versions/(?P<version>[^/]+))?$", re.I)

JsonPath = tuple[str | int, ...]


def is_parameters_file(path: Path) -> bool:
    """``*.parameters.json``: read with its template, not on its own."""
    return path.name.lower().endswith(".parameters.json")


class _Source(Struct):
    """One resource, evaluated, with the JSON path of its declaration."""

    kind: str
    names: tuple[str, ...]
    body: dict[str, Any]
    raw: dict[str, Any]
    at: JsonPath
    scope: Scope | None
    #: The file it is declared in (its display path and positions).
    tpl: Any = None
    #: (line, column, value) of a ``location`` written as a literal region name.
    literal_location: tuple[int, int, str] | None = None


class _Template:
    def __init__(self, path: Path, display: str, pos: JsonPositions, problems: list[LoadProblem]) -> None:
        self.path = path
        self.display = display
        self.pos = pos
        self.problems = problems
        self.found: list[_Source] = []
        self.count = 0
        self.secure_defaults: list[tuple[int, int, str]] = []

    def loc(self, at: JsonPath) -> Location:
        while at not in self.pos.values and at:
            at = at[:-1]
        line, col = self.pos.values.get(at, (1, 1))
        return Location(self.display, line, col)

    def problem(self, code: str, at: JsonPath, message: str, hint: str) -> None:
        self.problems.append(LoadProblem(code, self.loc(at), message, hint))

    def eval(self, value: Any, scope: Scope, at: JsonPath) -> Any:
        """Evaluate a raw value; malformed expressions are reported and become unknown."""
        if isinstance(value, str) and is_expression(value):
            try:
                return evaluate(value, scope)
            except ArmSyntaxError as e:
                line, col = self.loc(at).line or 1, self.loc(at).column or 1
                self.problems.append(LoadProblem(
                    "AML002", Location(self.display, line, col + e.offset + 1),
                    f"invalid ARM expression: {e}", "write the expression as [function('argument', ...)]"))
                return Unknown("malformed expression")
        if isinstance(value, dict):  # a key that starts with '[[' is the escape of a literal '['
            return {(k[1:] if k.startswith("[[") else k): self.eval(v, scope, at + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.eval(v, scope, at + (i,)) for i, v in enumerate(value)]
        if isinstance(value, str) and value.startswith("[["):
            return value[1:]
        return value

    def walk(self, template: dict[str, Any], scope: Scope, at: JsonPath, depth: int) -> None:
        resources = template.get("resources")
        if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
            items = [(at + ("resources", k), v) for k, v in resources.items()]
        elif isinstance(resources, list):
            items = [(at + ("resources", i), v) for i, v in enumerate(resources)]
        else:
            return
        for where, res in items:
            if isinstance(res, dict):
                self.resource(res, scope, where, depth, None)

    def resource(self, res: dict[str, Any], scope: Scope, at: JsonPath, depth: int,
                 parent: tuple[str, str] | None) -> None:
        if depth > MAX_NESTING:
            self.problem("AML003", at, f"resources nest deeper than {MAX_NESTING} levels",
                         "flatten the template: declare child resources at the top level with full names")
            return
        copy = res.get("copy")
        if isinstance(copy, dict):
            count = self.eval(copy.get("count"), scope, at + ("copy", "count"))
            name = copy.get("name") if isinstance(copy.get("name"), str) else ""
            if isinstance(count, bool) or not isinstance(count, int):
                # unknown iteration count: read the body once, with copyIndex() unknown
                self.one(res, scope.child({}), at, depth, parent, unknown_copy=True)
                return
            if count > MAX_COPY or count < 0:
                self.problem("AML003", at + ("copy", "count"),
                             f"copy count {count} is outside 0..{MAX_COPY}", f"ARM accepts at most {MAX_COPY} copies")
                count = max(0, min(count, MAX_COPY))
            for i in range(count):
                self.one(res, scope.child({"": i, name.lower(): i}), at, depth, parent)
            return
        self.one(res, scope, at, depth, parent)

    def one(self, res: dict[str, Any], scope: Scope, at: JsonPath, depth: int, parent: tuple[str, str] | None,
            unknown_copy: bool = False) -> None:
        self.count += 1
        if self.count > MAX_RESOURCES:
            if self.count == MAX_RESOURCES + 1:
                self.problem("AML003", at, f"the template expands to more than {MAX_RESOURCES:,} resources",
                             "split the template")
            return
        if "condition" in res:
            condition = self.eval(res["condition"], scope, at + ("condition",))
            if condition is False:
                return  # not deployed (an unknown condition: read, as it may be)
        rtype = self.eval(res.get("type"), scope, at + ("type",))
        rname = self.eval(res.get("name"), scope, at + ("name",))
        if not isinstance(rtype, str) or isinstance(rtype, Unknown):
            return
        if parent is not None and "/" not in rtype.split("/", 1)[-1] and not rtype.lower().startswith(parent[0].split("/")[0].lower() + "/"):
            rtype = f"{parent[0]}/{rtype}"  # a child resource's short type
        if parent is not None and isinstance(rname, str) and not isinstance(rname, Unknown) \
                and rname.count("/") < rtype.count("/") - 1:
            rname = f"{parent[1]}/{rname}"
        lowered = rtype.lower()
        if lowered == NESTED:
            self.nested(res, scope, at, depth)
        kind = _KINDS.get(lowered)
        if kind is not None:
            if isinstance(rname, Unknown) and "name" in res:
                # the workspace's name is often a parameter left to deploy time: the names below it suffice
                lenient = evaluate(res["name"], scope.leniently()) if isinstance(res["name"], str) else rname
                if isinstance(lenient, str) and not isinstance(lenient, Unknown) \
                        and "<" not in "".join(lenient.split("/")[1:]):
                    rname = lenient
            if isinstance(rname, Unknown) or not isinstance(rname, str):
                names: tuple[str, ...] = ()
            else:
                names = tuple(rname.split("/"))[1:]  # below the workspace
            body = {k: self.eval(v, scope, at + (k,)) for k, v in res.items()
                    if k in ("location", "sku", "identity", "tags", "properties", "kind")}
            src = _Source(kind, names, body, res, at, scope, self)
            raw_location = res.get("location")
            if isinstance(raw_location, str) and raw_location and not is_expression(raw_location):
                line, col = self.pos.values.get(at + ("location",), (1, 1))
                src.literal_location = (line, col, raw_location)
            if unknown_copy:
                body["__unknown_copy__"] = True
            self.found.append(src)
        children = res.get("resources")
        if isinstance(children, list) and isinstance(rname, str) and not isinstance(rname, Unknown):
            for i, child in enumerate(children):
                if isinstance(child, dict):
                    self.resource(child, scope, at + ("resources", i), depth + 1, (rtype, rname))

    def nested(self, res: dict[str, Any], scope: Scope, at: JsonPath, depth: int) -> None:
        props = res.get("properties")
        if not isinstance(props, dict) or not isinstance(props.get("template"), dict):
            return  # a linked template (templateLink) is not read
        inner = props["template"]
        options = props.get("expressionEvaluationOptions")
        inner_scope = isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
        where = at + ("properties", "template")
        if inner_scope:
            values = {}
            given = props.get("parameters")
            if isinstance(given, dict):
                for name, spec in given.items():
                    if isinstance(spec, dict) and "value" in spec:
                        values[name.lower()] = self.eval(spec["value"], scope, at + ("properties", "parameters", name, "value"))
            child_scope = Scope(_lower(inner.get("parameters")), values, _lower(inner.get("variables")),
                                report=scope.report)
        else:
            child_scope = scope
        self.walk(inner, child_scope, where, depth + 1)


def _lower(mapping: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in mapping.items()} if isinstance(mapping, dict) else {}


# -- ARM body -> az-ml document -------------------------------------------------------------


def _seconds(value: Any) -> Any:
    """ISO 8601 duration (``PT10S``) -> seconds; other values unchanged (validation reports them)."""
    if isinstance(value, str) and not isinstance(value, Unknown):
        m = _DURATION.fullmatch(value.strip())
        if m and any(m.groups()):
            total = _decimal_seconds(m)
            return int(total) if total == int(total) else float(total)
    return value


def _decimal_seconds(m: re.Match[str]) -> Decimal:
    d, h, mi, s = m.groups()
    return Decimal(int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60) + Decimal(s or 0)


def _ms(value: Any) -> Any:
    """ISO 8601 duration -> milliseconds, exactly (``PT104.079S`` is 104079, not 104079.00000000001)."""
    if isinstance(value, str) and not isinstance(value, Unknown):
        m = _DURATION.fullmatch(value.strip())
        if m and any(m.groups()):
            ms = _decimal_seconds(m) * 1000
            return int(ms) if ms == int(ms) else float(ms)
    return value


def _asset_ref(value: Any, kind: str) -> Any:
    """An ARM asset id -> the az-ml reference (``azureml:name:version``)."""
    if isinstance(value, Unknown) or not isinstance(value, str):
        return value
    if isinstance(value, ResourceId):
        if value.type.lower() == f"{ML}/{kind}/versions".lower() and len(value.names) == 3:
            return f"azureml:{value.names[1]}:{value.names[2]}"
        if value.type.lower() == f"{ML}/{kind}".lower() and len(value.names) == 2:
            return f"azureml:{value.names[1]}"
        return Unknown(f"an id of a {value.type} resource")
    if value.startswith("azureml:"):
        return value
    m = _ID.search(value)
    if m and m.group("kind").lower() == kind.lower():
        if "<current>" in value:
            return f"azureml:{m.group('name')}" + (f":{m.group('version')}" if m.group("version") else "")
        return "azureml:" + value
    return value


class _Builder:
    """Builds one az-ml document's data and its source map from an ARM resource."""

    def __init__(self, src: _Source, tpl: _Template) -> None:
        self.src = src
        self.tpl = tpl
        self.smap = SourceMap(tpl.display)
        self.data: dict[str, Any] = {}
        self.smap.values[()] = tpl.pos.values.get(src.at, (1, 1))

    def put(self, yaml_path: JsonPath, value: Any, json_rel: JsonPath) -> None:
        """Set ``value`` at ``yaml_path``, located at the resource's ``json_rel`` value."""
        if value is None:
            return
        target = self.data
        for part in yaml_path[:-1]:
            target = target.setdefault(part, {})  # type: ignore[assignment]
        target[yaml_path[-1]] = value  # type: ignore[index]
        at = self.src.at + json_rel
        pos = self.tpl.pos.values.get(at)
        if pos is None:  # spelled by a parent (a whole object from a parameter): point there
            probe = at
            while probe and probe not in self.tpl.pos.values:
                probe = probe[:-1]
            pos = self.tpl.pos.values.get(probe, (1, 1))
        self.smap.values[yaml_path] = pos
        key = self.tpl.pos.keys.get(at)
        if key is not None:
            self.smap.keys[yaml_path] = key
        self._mark_unknown(yaml_path, value)

    def _mark_unknown(self, path: JsonPath, value: Any) -> None:
        if isinstance(value, Unknown):
            self.smap.unknown[path] = str(value)[len("<unknown: "):-1]
        elif isinstance(value, dict):
            for k, v in value.items():
                self._mark_unknown(path + (k,), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._mark_unknown(path + (i,), v)

    def copy(self, yaml_path: JsonPath, json_rel: JsonPath, convert: Any = None) -> Any:
        """Copy the body value at ``json_rel`` (if present) to ``yaml_path``."""
        value: Any = self.src.body
        for part in json_rel:
            if not isinstance(value, dict):
                return None
            value = _get(value, str(part))
            if value is None:
                return None
        if convert is not None and not isinstance(value, Unknown):
            value = convert(value)
        self.put(yaml_path, value, json_rel)
        return value

    def nested_positions(self, yaml_path: JsonPath, json_rel: JsonPath, value: Any, rename: dict[str, str]) -> None:
        """Positions for the children of a copied mapping (keys renamed)."""
        if not isinstance(value, dict):
            return
        for k, v in value.items():
            jk = next((a for a, b in rename.items() if b == k), k)
            at = self.src.at + json_rel + (jk,)
            if at in self.tpl.pos.values:
                self.smap.values[yaml_path + (k,)] = self.tpl.pos.values[at]
            if at in self.tpl.pos.keys:
                self.smap.keys[yaml_path + (k,)] = self.tpl.pos.keys[at]


def _get(mapping: dict[str, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for k, v in mapping.items():
        if k.lower() == lowered:
            return v
    return None


def _lower_enum(table: dict[str, str] | None = None) -> Any:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = value.lower().replace(" ", "")
        return table.get(key, value) if table is not None else key
    return convert


def _probe(b: _Builder, yaml_key: str, json_key: str) -> None:
    probe = _get(b.src.body.get("properties") or {}, json_key)
    if not isinstance(probe, dict):
        if probe is not None:
            b.put((yaml_key,), probe, ("properties", json_key))
        return
    for jk, yk, conv in (("initialDelay", "initial_delay", _seconds), ("period", "period", _seconds),
                         ("timeout", "timeout", _seconds), ("successThreshold", "success_threshold", None),
                         ("failureThreshold", "failure_threshold", None)):
        b.copy((yaml_key, yk), ("properties", json_key, jk), conv)
    if yaml_key not in b.data:
        b.put((yaml_key,), {}, ("properties", json_key))


def _endpoint(b: _Builder, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    b.put(("name",), names[0], ("name",))
    props = b.src.body.get("properties")
    b.copy(("description",), ("properties", "description"))
    b.copy(("tags",), ("tags",), lambda v: v or None)  # tags: {} is no tags
    b.copy(("auth_mode",), ("properties", "authMode"), _lower_enum(_AUTH))
    identity = b.src.body.get("identity")
    if isinstance(identity, dict):
        b.copy(("identity", "type"), ("identity", "type"), _lower_enum(_IDENTITY))
        users = _get(identity, "userAssignedIdentities")
        if isinstance(users, dict) and users:
            b.put(("identity", "user_assigned_identities"), [{"resource_id": k} for k in users],
                  ("identity", "userAssignedIdentities"))
    elif isinstance(identity, Unknown):
        b.put(("identity",), identity, ("identity",))
    compute = _get(props, "compute") if isinstance(props, dict) else None
    kind = "managed_endpoint"
    if compute is not None:
        kind = "kubernetes_endpoint"
        b.copy(("compute",), ("properties", "compute"), lambda v: _asset_ref(v, "computes"))
    else:
        b.copy(("public_network_access",), ("properties", "publicNetworkAccess"), _lower_enum())
    for jk, yk in (("traffic", "traffic"), ("mirrorTraffic", "mirror_traffic")):
        value = b.copy((yk,), ("properties", jk))
        b.nested_positions((yk,), ("properties", jk), value, {})
    return kind, b.data


def _deployment(b: _Builder, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    props = b.src.body.get("properties")
    props = props if isinstance(props, dict) else {}
    compute_type = _get(props, "endpointComputeType")
    is_k8s = isinstance(compute_type, str) and compute_type.lower() == "kubernetes"
    b.put(("name",), names[-1], ("name",))
    b.put(("endpoint_name",), names[0], ("name",))
    if is_k8s:
        b.put(("type",), "kubernetes", ("properties", "endpointComputeType"))
    b.copy(("description",), ("properties", "description"))
    b.copy(("tags",), ("tags",), lambda v: v or None)  # tags: {} is no tags
    b.copy(("model",), ("properties", "model"), lambda v: _asset_ref(v, "models"))
    b.copy(("model_mount_path",), ("properties", "modelMountPath"))
    code = _get(props, "codeConfiguration")
    if isinstance(code, dict):
        b.copy(("code_configuration", "code"), ("properties", "codeConfiguration", "codeId"),
               lambda v: _asset_ref(v, "codes"))
        b.copy(("code_configuration", "scoring_script"), ("properties", "codeConfiguration", "scoringScript"))
    elif code is not None:
        b.put(("code_configuration",), code, ("properties", "codeConfiguration"))
    b.copy(("environment",), ("properties", "environmentId"), lambda v: _asset_ref(v, "environments"))
    value = b.copy(("environment_variables",), ("properties", "environmentVariables"))
    b.nested_positions(("environment_variables",), ("properties", "environmentVariables"), value, {})
    b.copy(("instance_type",), ("properties", "instanceType"))
    sku = b.src.body.get("sku")
    if isinstance(sku, dict):
        b.copy(("instance_count",), ("sku", "capacity"))
    elif isinstance(sku, Unknown):
        b.put(("instance_count",), sku, ("sku",))
    b.copy(("app_insights_enabled",), ("properties", "appInsightsEnabled"))
    if not is_k8s:
        b.copy(("egress_public_network_access",), ("properties", "egressPublicNetworkAccess"), _lower_enum())
    request = _get(props, "requestSettings")
    if isinstance(request, dict):
        b.copy(("request_settings", "request_timeout_ms"), ("properties", "requestSettings", "requestTimeout"), _ms)
        b.copy(("request_settings", "max_concurrent_requests_per_instance"),
               ("properties", "requestSettings", "maxConcurrentRequestsPerInstance"))
        b.copy(("request_settings", "max_queue_wait_ms"), ("properties", "requestSettings", "maxQueueWait"), _ms)
        if "request_settings" not in b.data:
            b.put(("request_settings",), {}, ("properties", "requestSettings"))
    for yk, jk in (("liveness_probe", "livenessProbe"), ("readiness_probe", "readinessProbe"),
                   ("startup_probe", "startupProbe")):
        if _get(props, jk) is not None:
            _probe(b, yk, jk)
    scale = _get(props, "scaleSettings")
    if isinstance(scale, dict):
        stype = _get(scale, "scaleType")
        if isinstance(stype, str) and stype.lower() == "targetutilization":
            b.put(("scale_settings", "type"), "target_utilization", ("properties", "scaleSettings", "scaleType"))
            for jk, yk in (("minInstances", "min_instances"), ("maxInstances", "max_instances"),
                           ("targetUtilizationPercentage", "target_utilization_percentage")):
                b.copy(("scale_settings", yk), ("properties", "scaleSettings", jk))
            b.copy(("scale_settings", "polling_interval"), ("properties", "scaleSettings", "pollingInterval"), _seconds)
        else:
            b.copy(("scale_settings", "type"), ("properties", "scaleSettings", "scaleType"),
                   lambda v: "default" if isinstance(v, str) and v.lower() == "default" else v)
    requirements = _get(props, "containerResourceRequirements")
    if isinstance(requirements, dict):
        for jk, yk in (("containerResourceRequests", "requests"), ("containerResourceLimits", "limits")):
            value = b.copy(("resources", yk), ("properties", "containerResourceRequirements", jk))
            b.nested_positions(("resources", yk), ("properties", "containerResourceRequirements", jk), value, {})
    return ("kubernetes_deployment" if is_k8s else "managed_deployment"), b.data


def _environment(b: _Builder, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    b.put(("name",), names[0], ("name",))
    if len(names) > 1:
        b.put(("version",), names[1], ("name",))
    b.copy(("description",), ("properties", "description"))
    b.copy(("tags",), ("properties", "tags"))
    b.copy(("image",), ("properties", "image"))
    conda = _get(b.src.body.get("properties") or {}, "condaFile")
    if isinstance(conda, str) and not isinstance(conda, Unknown):
        import yaml

        try:
            parsed = yaml.safe_load(conda)
        except yaml.YAMLError:
            parsed = None
        if isinstance(parsed, dict):
            b.put(("conda_file",), parsed, ("properties", "condaFile"))
            b._mark_unknown(("conda_file",), parsed)
        else:
            b.put(("conda_file",), Unknown("condaFile is not a YAML mapping"), ("properties", "condaFile"))
    elif conda is not None:
        b.put(("conda_file",), conda, ("properties", "condaFile"))
    b.copy(("os_type",), ("properties", "osType"), _lower_enum())
    build = _get(b.src.body.get("properties") or {}, "build")
    if isinstance(build, dict):
        b.copy(("build", "path"), ("properties", "build", "contextUri"))
        b.copy(("build", "dockerfile_path"), ("properties", "build", "dockerfilePath"))
    inference = _get(b.src.body.get("properties") or {}, "inferenceConfig")
    if isinstance(inference, dict):
        for jk, yk in (("livenessRoute", "liveness_route"), ("readinessRoute", "readiness_route"),
                       ("scoringRoute", "scoring_route")):
            b.copy(("inference_config", yk, "port"), ("properties", "inferenceConfig", jk, "port"))
            b.copy(("inference_config", yk, "path"), ("properties", "inferenceConfig", jk, "path"))
    return "environment", b.data


def _model(b: _Builder, names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    b.put(("name",), names[0], ("name",))
    if len(names) > 1:
        b.put(("version",), names[1], ("name",))
    b.copy(("description",), ("properties", "description"))
    b.copy(("tags",), ("properties", "tags"))
    b.copy(("type",), ("properties", "modelType"), _lower_enum())
    b.copy(("path",), ("properties", "modelUri"))
    return "model", b.data


_BUILD = {"endpoint": _endpoint, "deployment": _deployment, "environment": _environment, "model": _model}
_NAME_PARTS = {"endpoint": 1, "deployment": 2, "environment": 2, "model": 2}


def documents_of(found: list[_Source], reader: str, explicit: bool) -> list[Document]:
    """One document per resource (the last declaration of a resource wins), in the file that
    declares it. ``src.tpl`` has ``display``, ``path``, ``pos`` and ``problem()``."""
    last: dict[tuple[str, tuple[str, ...]], _Source] = {}
    order: list[tuple[str, tuple[str, ...]]] = []
    unnamed: list[_Source] = []
    for src in found:
        if src.kind == "code":
            continue
        if len(src.names) != _NAME_PARTS[src.kind]:
            unnamed.append(src)
            continue
        key = (src.kind, tuple(n.lower() for n in src.names))
        if key not in last:
            order.append(key)
        last[key] = src
    docs = []
    for src in [last[k] for k in order]:
        builder = _Builder(src, src.tpl)
        kind, data = _BUILD[src.kind](builder, src.names)
        if src.body.get("__unknown_copy__"):
            builder.smap.unknown[("name",)] = "the loop's count is not known"
        doc = Document(src.tpl.path, src.tpl.display, kind, data, builder.smap, explicit=explicit, reader=reader)
        doc.facts["replaces"] = True
        literal = getattr(src, "literal_location", None)
        if literal is not None:
            doc.facts["literal_location"] = literal
        docs.append(doc)
    firsts: dict[str, Document] = {}
    for doc in docs:
        firsts.setdefault(doc.display, doc)
    for src in found:
        secure = getattr(src.tpl, "secure_defaults", None)
        if secure and src.tpl.display in firsts:
            firsts[src.tpl.display].facts["secure_defaults"] = list(secure)
    for src in unnamed:
        src.tpl.problem("AML005", src.at + ("name",), f"the name of this {src.kind} resource is not known statically",
                    "name it from parameters or variables with known values; it is not checked")
    return docs


def _read_parameters(path: Path, display: str, options: LoadOptions,
                     problems: list[LoadProblem]) -> dict[str, Any] | None:
    try:
        text = read_text(path, display, options.max_file_bytes)
        data, _ = parse_json(text, display)
    except UserInputError as e:
        problems.append(LoadProblem("AML002" if e.message.startswith("invalid JSON") else "AML001",
                                    e.location or Location(display), e.message, e.hint, fatal=True))
        return None
    params = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(params, dict):
        problems.append(LoadProblem("AML005", Location(display, 1, 1), "not an ARM parameters file (no 'parameters')",
                                    "write {\"parameters\": {\"name\": {\"value\": ...}}}", fatal=True))
        return None
    values = {}
    for name, spec in params.items():
        if isinstance(spec, dict) and "value" in spec:
            values[name.lower()] = spec["value"]
        elif isinstance(spec, dict) and "reference" in spec:
            values[name.lower()] = Unknown(f"parameter '{name}' is a Key Vault reference")
    return values


class ArmReader(Reader):
    """ARM JSON deployment templates (``.json`` whose ``$schema`` is ``deploymentTemplate.json``)."""

    name = "arm"
    suffixes = (".json",)

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        in_memory = options.overlay.text(path) if options.overlay is not None else None
        try:
            if in_memory is None:
                if not explicit and not _sniff(path):
                    result.skipped = "not an ARM template"
                    return result
                text = read_text(path, display, options.max_file_bytes)
            else:
                text = in_memory
            data, pos = parse_json(text, display)
        except UserInputError as e:
            message = e.message
            code = "AML002" if message.startswith("invalid JSON") else (
                "AML003" if "nests deeper" in message or "more than" in message else
                "AML004" if "larger than" in message else "AML001")
            if code == "AML002" and "nests deeper" in message or "holds more than" in message:
                code = "AML003"
            result.problems.append(LoadProblem(code, e.location or Location(display), message, e.hint, fatal=True))
            return result
        schema = data.get("$schema") if isinstance(data, dict) else None
        schema = schema.lower() if isinstance(schema, str) else ""
        if "deploymentparameters.json" in schema:
            result.skipped = "an ARM parameters file: read with its template"
            return result
        if "deploymenttemplate.json" not in schema:
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(display, 1, 1),
                    "not an ARM deployment template (its $schema is not .../deploymentTemplate.json)",
                    "pass ARM templates, Bicep files or az-ml YAML", fatal=True))
            result.skipped = "not an ARM template"
            return result
        assert isinstance(data, dict)
        values: dict[str, Any] = {}
        params_path = Path(options.parameters) if getattr(options, "parameters", None) else _sibling_parameters(path)
        if params_path is not None:
            read = _read_parameters(params_path, _display(params_path), options, result.problems)
            if read is None:
                return result
            values = read
        problems = result.problems
        tpl = _Template(path, display, pos, problems)

        def report(message: str) -> None:
            if not any(p.message == message for p in problems):
                tpl.problem("AML003", ("variables",), message, "break the circle: one variable must not need itself")

        scope = Scope(_lower(data.get("parameters")), values, _lower(data.get("variables")), report=report)
        params = data.get("parameters")
        if isinstance(params, dict):
            tpl.secure_defaults = [
                (*pos.values.get(("parameters", name, "defaultValue"), (1, 1)), name)
                for name, decl in params.items()
                if isinstance(decl, dict) and str(decl.get("type", "")).lower() in ("securestring", "secureobject")
                and "defaultValue" in decl and decl["defaultValue"] not in ("", {}, None)]
        tpl.walk(data, scope, (), 0)
        result.documents.extend(documents_of(tpl.found, "arm", explicit))
        if not result.documents and not result.problems:
            result.skipped = "an ARM template without Machine Learning online endpoint resources"
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(display, 1, 1), "no Machine Learning online endpoint, deployment, model, "
                    "environment or code resource in this ARM template", "pass the templates that declare them",
                    fatal=True))
        return result


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover
        return str(path)


def _sibling_parameters(path: Path) -> Path | None:
    name = path.name
    stem = name[: -len(".json")] if name.lower().endswith(".json") else name
    candidate = path.with_name(stem + ".parameters.json")
    return candidate if candidate.is_file() else None


def _sniff(path: Path) -> bool:
    if not is_regular_file(path):
        return True  # a FIFO or device is never opened here (it would block): read_text reports it
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return True  # let read_text report it
    return bool(_SNIFF.search(head))


READER = ArmReader()

__all__ = ["ArmReader", "READER", "is_parameters_file"]
