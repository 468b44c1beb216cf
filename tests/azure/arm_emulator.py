"""A small Azure Resource Manager emulator for the tests: HTTPS on 127.0.0.1 only, stdlib only
(plus ``cryptography`` to make its certificate at test time).

It serves the REST shapes the real clients use, so that the real ``azure-mgmt-resource-deployments``
client (and amlforge's azure-core client for the usages API) run unchanged against it. Where each
shape comes from:

- Deployments validate / what-if / create-or-update, their URLs and accepted status codes: the
  generated operations of azure-mgmt-resource-deployments 2.0.0
  (``azure/mgmt/resource/deployments/operations/_operations.py``: ``build_deployments_validate_request``
  POST ``.../deployments/{name}/validate`` accepting 200/202/400; ``build_deployments_what_if_request``
  POST ``.../whatIf`` accepting 200/202; ``build_deployments_create_or_update_request`` PUT accepting
  200/201), and the REST examples of Azure/azure-rest-api-specs
  ``specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/examples/``
  ``PostDeploymentWhatIfOnResourceGroup.json`` (``status``, ``properties.changes[]`` with
  ``resourceId``, ``changeType``, ``before``, ``after``, ``delta[]`` of ``path``/``propertyChangeType``/
  ``before``/``after``; 202 with a ``Location`` header) and ``PutDeploymentResourceGroup.json``
  (201 body with ``provisioningState: Accepted``; 200 with ``Succeeded``, ``outputResources``).
- Long-running operations: "Track asynchronous Azure operations" (learn.microsoft.com,
  azure-resource-manager/management/async-operations): 201/202 with ``Azure-AsyncOperation``
  (status body ``{"status": "Running" | "Succeeded" | "Failed" | "Canceled", "error": {...}}``)
  or ``Location`` (202 while running, then 200 with the result), and ``Retry-After``.
- Error bodies ``{"error": {"code", "message", "target", "details": [...]}}``: the ARM common
  error response (azure-mgmt-resource's ``ErrorResponse``/``CloudError`` models). Codes and
  messages used here: ``InvalidTemplate`` "Deployment template validation failed: 'The value for
  the template parameter ... is not provided ...'" (ARM template validation);
  ``DeploymentFailed`` "At least one resource deployment operation failed. Please list deployment
  operations for details. Please see https://aka.ms/arm-deployment-operations for usage details."
  with ``ResourceDeploymentFailure`` details (the operation status body quoted in Microsoft Learn
  deployment tutorials); ``InvalidAuthenticationToken`` (401 with ``WWW-Authenticate``),
  ``AuthorizationFailed`` (403), ``SubscriptionNotFound`` and ``ResourceGroupNotFound`` (404),
  ``SubscriptionRequestsThrottled`` (429 with ``Retry-After``: "request limits and throttling",
  azure-resource-manager/management/request-limits-and-throttling), ``NoRegisteredProviderFound``
  for a location a provider does not serve ("No registered resource provider found for location
  ..."; error-register-resource-provider.md). Whether the ML usages API answers an unknown
  location with exactly that code is not confirmed: amlforge maps the family of location codes.
- Azure ML usages: ``GET /subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/
  {location}/usages?api-version=2024-04-01`` -> ``{"value": [{"id", "type", "currentValue", "limit",
  "name": {"value", "localizedValue"}, "unit"}], "nextLink"?}``: Azure/azure-rest-api-specs
  ``specification/machinelearningservices/.../stable/2024-04-01/examples/Usage/list.json``
  (subscription rows ``/subscriptions/{sub}/usages/Standard_DSv2_Family_Cluster_Dedicated_vCPUs``,
  type ``Microsoft.MachineLearningServices/vmFamily/usages``, name "Standard DSv2 Family Cluster
  Dedicated vCPUs"; workspace and compute rows; low-priority rows with limit -1; the regional
  "Total Cluster Dedicated Regional vCPUs" row of type ``dedicatedCores/usages``).
- Pre-flight reads of amlforge (``azure.mgmt.resource.resources.ResourceManagementClient`` of
  azure-mgmt-resource 26.0.0, default api-version 2025-04-01; its generated
  ``azure/mgmt/resource/resources/operations/_operations.py``, where each of the three accepts 200
  only and maps 404 to ``ResourceNotFoundError``):

  - ``build_resource_groups_get_request``: ``GET /subscriptions/{sub}/resourcegroups/{rg}`` ->
    ``{"id": "/subscriptions/{sub}/resourceGroups/{rg}", "name", "location", "properties":
    {"provisioningState": "Succeeded"}}`` (the ``ResourceGroup`` definition of Azure/azure-rest-api-specs
    ``specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json``
    and the example ``.../Microsoft.Resources/stable/2021-04-01/examples/CreateResourceGroup.json``);
    a missing group is 404 ``ResourceGroupNotFound`` "Resource group '{rg}' could not be found."
  - ``build_providers_get_request``: ``GET /subscriptions/{sub}/providers/{namespace}`` ->
    ``{"id", "namespace", "registrationState", "registrationPolicy": "RegistrationRequired",
    "resourceTypes": [{"resourceType", "locations", "apiVersions"}]}`` (the ``Provider`` definition
    of that resources.json and ``examples/GetProvider.json`` of 2021-04-01, whose state is
    "Registering"; "Registered" and "NotRegistered" are the other states ``az provider show``
    reports: Microsoft Learn, azure-resource-manager/management/resource-providers-and-types).
  - ``build_resources_get_by_id_request``: ``GET /{resourceId}?api-version=...`` with the workspace id
    ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}``
    and the api-version amlforge passes (the template's, 2026-05-01 by default) -> the workspace as in
    ``specification/machinelearningservices/.../stable/2024-04-01/examples/Workspace/get.json``
    (``id``, ``name``, ``type: Microsoft.MachineLearningServices/workspaces``, ``location``,
    ``properties``); a missing workspace is ARM's 404 ``ResourceNotFound`` "The Resource
    'Microsoft.MachineLearningServices/workspaces/{ws}' under resource group '{rg}' was not found. For
    more details please go to https://aka.ms/ARMResourceNotFoundFix" (azure-resource-manager/
    troubleshooting/error-not-found; quoted verbatim for other types in Azure/azqr#263 and
    Azure-Samples/azure-search-openai-demo#80), and a missing group 404 ``ResourceGroupNotFound``.
  - A read the caller may not make: 403 ``AuthorizationFailed`` "The client '...' with object id
    '...' does not have authorization to perform action '{action}' over scope '{scope}' or the scope
    is invalid. If access was recently granted, please refresh your credentials.", with the actions
    ``Microsoft.Resources/subscriptions/resourcegroups/read`` (Azure/azure-cli#29802),
    ``Microsoft.Resources/subscriptions/providers/read`` over the subscription
    (hashicorp/terraform-provider-azurerm#2678) and ``Microsoft.MachineLearningServices/workspaces/read``.

The what-if engine is a deliberately small model of ARM: it evaluates the expression functions the
generated templates use (``parameters``, ``variables``, ``concat``, ``resourceId``, ``subscription()``,
``resourceGroup()``), expands nested inner-scope deployments, compares with the resources the
test put in the resource group (``Emulator.resources``), and reports Create / Modify (with a
property delta) / NoChange, and for resources of the group the template does not name Delete in
Complete mode or Ignore in Incremental mode. Expressions it cannot evaluate stay as text, as real
what-if shows ``reference()`` values.

Safety: binds 127.0.0.1 only; answers at most ``max_requests`` requests; shuts itself down after
``lifetime`` seconds even if a test forgets to stop it.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import re
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "amlforge-emulator-token"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1"
FORBIDDEN_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000f3"
UNKNOWN_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e4"
RESOURCE_GROUP = "rg-aml-examples"
REGION = "westeurope"
WORKSPACE = "aml-examples"
ML_NAMESPACE = "Microsoft.MachineLearningServices"
DEPLOYMENT_FAILED_MESSAGE = ("At least one resource deployment operation failed. Please list deployment operations "
                             "for details. Please see https://aka.ms/arm-deployment-operations for usage details.")


# --- certificate ------------------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amlforge test ARM emulator CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - _dt.timedelta(minutes=5))
          .not_valid_after(now + _dt.timedelta(hours=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(hours=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


# --- ARM template expressions (the subset the generated templates use) --------------------------


class Unevaluable(Exception):
    """An expression the emulator does not model: it stays as text."""


_TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<sym>[(),.\[\]]))")


class Expressions:
    """Evaluates ``[...]`` expressions with the parameters and variables of one template scope."""

    def __init__(self, template: dict[str, Any], supplied: dict[str, Any], sub: str, rg: str, rg_location: str):
        self.sub, self.rg, self.rg_location = sub, rg, rg_location
        self.declared = template.get("parameters") or {}
        self.supplied = supplied
        self.variables = template.get("variables") or {}
        self._params: dict[str, Any] = {}

    # parameters
    def parameter(self, name: str) -> Any:
        key = next((k for k in self.declared if k.lower() == name.lower()), None)
        if key is None:
            raise KeyError(name)
        if key not in self._params:
            given = next((v for k, v in self.supplied.items() if k.lower() == key.lower()), None)
            if isinstance(given, dict) and "value" in given:
                self._params[key] = given["value"]
            elif "defaultValue" in (self.declared[key] or {}):
                self._params[key] = self.value(self.declared[key]["defaultValue"])
            else:
                raise KeyError(name)
        return self._params[key]

    def missing_parameters(self) -> list[str]:
        out = []
        for key, decl in self.declared.items():
            given = any(k.lower() == key.lower() for k in self.supplied)
            if not given and "defaultValue" not in (decl or {}):
                out.append(key)
        return out

    # values
    def value(self, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str) and v.startswith("[") and v.endswith("]"):
            if v.startswith("[["):
                return v[1:]
            try:
                return self.expression(v[1:-1])
            except (Unevaluable, KeyError, IndexError, TypeError):
                return v
        return v

    def expression(self, text: str) -> Any:
        tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN_RE.finditer(text)]
        if "".join(t[1] for t in tokens).replace(" ", "") != text.replace(" ", ""):
            raise Unevaluable(text)
        value, pos = self._parse(tokens, 0)
        if pos != len(tokens):
            raise Unevaluable(text)
        return value

    def _parse(self, tokens: list[tuple[str, str]], pos: int) -> tuple[Any, int]:
        kind, tok = tokens[pos]
        if kind == "str":
            value: Any = tok[1:-1].replace("''", "'")
            pos += 1
        elif kind == "num":
            value, pos = int(tok), pos + 1
        elif kind == "name":
            if tokens[pos + 1][1] != "(":
                raise Unevaluable(tok)
            args: list[Any] = []
            pos += 2
            while tokens[pos][1] != ")":
                arg, pos = self._parse(tokens, pos)
                args.append(arg)
                if tokens[pos][1] == ",":
                    pos += 1
            pos += 1
            value = self._call(tok.lower(), args)
        else:
            raise Unevaluable(tok)
        while pos < len(tokens) and tokens[pos][1] in (".", "["):
            if tokens[pos][1] == ".":
                prop = tokens[pos + 1][1]
                value = next(v for k, v in value.items() if k.lower() == prop.lower())
                pos += 2
            else:
                index, pos = self._parse(tokens, pos + 1)
                value = value[index]
                pos += 1
        return value, pos

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "parameters":
            return self.parameter(args[0])
        if name == "variables":
            return self.value(self.variables[args[0]])
        if name == "concat":
            if args and all(isinstance(a, list) for a in args):
                return [x for a in args for x in a]
            return "".join(str(a) for a in args)
        if name == "resourceid":
            rtype, names = args[0], args[1:]
            return resource_id(self.sub, self.rg, rtype, "/".join(str(n) for n in names))
        if name == "subscription":
            return {"id": f"/subscriptions/{self.sub}", "subscriptionId": self.sub}
        if name == "resourcegroup":
            return {"id": f"/subscriptions/{self.sub}/resourceGroups/{self.rg}", "name": self.rg,
                    "location": self.rg_location}
        raise Unevaluable(name)


def resource_id(sub: str, rg: str, rtype: str, name: str) -> str:
    """``Microsoft.X/a/b`` + ``n1/n2`` -> ``/subscriptions/.../providers/Microsoft.X/a/n1/b/n2``."""
    namespace, *types = rtype.split("/")
    names = name.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{path}"


#: Top-level resource fields what-if compares (the rest are ARM's own: dependsOn, condition, ...).
COMPARED = ("location", "sku", "kind", "identity", "tags", "properties")


def expand(template: dict[str, Any], supplied: dict[str, Any], sub: str, rg: str, rg_location: str) -> list[dict[str, Any]]:
    """The resources a template deploys, evaluated, nested inner-scope deployments expanded."""
    ev = Expressions(template, supplied, sub, rg, rg_location)
    out: list[dict[str, Any]] = []
    resources = template.get("resources") or []
    if isinstance(resources, dict):  # languageVersion 2.0 symbolic names
        resources = list(resources.values())
    for r in resources:
        rtype = ev.value(r.get("type", ""))
        if str(rtype).lower() == "microsoft.resources/deployments":
            props = r.get("properties") or {}
            inner = props.get("template") or {}
            scope = ((props.get("expressionEvaluationOptions") or {}).get("scope") or "outer").lower()
            if scope == "inner":
                out.extend(expand(inner, ev.value(props.get("parameters") or {}), sub, rg, rg_location))
            else:
                merged = {**inner, "parameters": template.get("parameters"), "variables": template.get("variables")}
                out.extend(expand(merged, supplied, sub, rg, rg_location))
            continue
        name = str(ev.value(r.get("name", "")))
        body = {"id": resource_id(sub, rg, str(rtype), name), "name": name, "type": rtype,
                "apiVersion": r.get("apiVersion")}
        for key in COMPARED:
            if key in r:
                body[key] = ev.value(r[key])
        out.append(body)
    return out


def delta(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """WhatIfPropertyChange list between two payloads (Create / Delete / Modify / Array with children)."""
    out: list[dict[str, Any]] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else key
            if key not in before:
                out.append({"path": sub, "propertyChangeType": "Create", "after": after[key]})
            elif key not in after:
                out.append({"path": sub, "propertyChangeType": "Delete", "before": before[key]})
            elif before[key] != after[key]:
                out.extend(delta(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list):
        children = []
        for i in range(max(len(before), len(after))):
            if i >= len(before):
                children.append({"path": str(i), "propertyChangeType": "Create", "after": after[i]})
            elif i >= len(after):
                children.append({"path": str(i), "propertyChangeType": "Delete", "before": before[i]})
            elif before[i] != after[i]:
                children.append({"path": str(i), "propertyChangeType": "Modify", "before": before[i], "after": after[i]})
        return [{"path": path, "propertyChangeType": "Array", "children": children}]
    return [{"path": path, "propertyChangeType": "Modify", "before": before, "after": after}]


# --- the server -------------------------------------------------------------------------------


@dataclass
class Operation:
    """A long-running operation: the statuses its polls answer, then what it leaves behind."""

    kind: str  # validate | whatif | deploy
    statuses: list[str]
    result: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    polls: int = 0
    on_done: Any = None


@dataclass
class Emulator:
    """Configure it from the test, then point ``--arm-endpoint`` at :attr:`endpoint`."""

    folder: Path
    lifetime: float = 120.0
    max_requests: int = 400
    #: (sub, rg) -> location of the resource groups that exist.
    resource_groups: dict[tuple[str, str], str] = field(
        default_factory=lambda: {(SUBSCRIPTION, RESOURCE_GROUP.lower()): REGION})
    #: resource id (lower case) -> payload of the resources in the groups.
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (sub, rg lower case) -> {workspace name lower case: location}: the Azure ML workspaces that
    #: exist (kept apart from ``resources``: what-if compares those with the template).
    workspaces: dict[tuple[str, str], dict[str, str]] = field(
        default_factory=lambda: {(SUBSCRIPTION, RESOURCE_GROUP.lower()): {WORKSPACE: REGION}})
    #: resource provider namespace (lower case) -> registrationState; others are "NotRegistered".
    providers: dict[str, str] = field(default_factory=lambda: {ML_NAMESPACE.lower(): "Registered"})
    #: Pre-flight reads answered 403 AuthorizationFailed: "resourceGroups", "providers", "workspaces".
    forbidden_reads: set[str] = field(default_factory=set)
    #: (sub, region) -> usage rows of the ML usages API.
    usages: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: How many "Running"/202 answers a long-running operation gives before it ends.
    running_polls: int = 2
    #: Retry-After (seconds) on the first answer of a long-running operation, None for none.
    lro_retry_after: str | None = "0"
    #: The next N requests are throttled with 429 and this Retry-After.
    throttle: int = 0
    throttle_retry_after: str = "1"
    #: A deployment fails on its last poll with these ResourceDeploymentFailure details.
    fail_deployment: str | None = None
    log: list[tuple[str, str, int]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ca, cert, key = make_certificate(self.folder)
        self.ca_path = ca
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        handler = type("Handler", (_Handler,), {"emulator": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="arm-emulator", daemon=True)
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True

    def start(self) -> Emulator:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def requests(self, method: str | None = None, contains: str = "") -> list[tuple[str, str, int]]:
        return [r for r in self.log if (method is None or r[0] == method) and contains.lower() in r[1].lower()]

    def add_resource(self, payload: dict[str, Any]) -> None:
        self.resources[payload["id"].lower()] = payload


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # plumbing
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-correlation-request-id", self._correlation)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.emulator.log.append((self.command, self.path, status))

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
               details: list[dict[str, Any]] | None = None, target: str | None = None) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if target:
            error["target"] = target
        if details:
            error["details"] = details
        self._send(status, {"error": error}, headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        emu = self.emulator
        self._correlation = str(uuid.uuid4())
        body = self._body() if self.command in ("POST", "PUT") else None
        if len(emu.log) >= emu.max_requests:
            return self._error(503, "EmulatorRequestBudgetExhausted", "the test emulator's request budget is spent")
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if "api-version" not in query:
            return self._error(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "InvalidAuthenticationToken", "The access token is invalid.", {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/tenant", '
                                    'error="invalid_token", error_description="The access token is invalid."'})
        m = re.match(r"^/subscriptions/([^/]+)(/.*)?$", url.path, re.IGNORECASE)
        if not m:
            return self._error(404, "InvalidResourceType", "The resource type could not be found.")
        sub, rest = m.group(1), m.group(2) or ""
        if sub == UNKNOWN_SUBSCRIPTION:
            return self._error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        if sub == FORBIDDEN_SUBSCRIPTION:
            return self._error(403, "AuthorizationFailed", (
                "The client 'amlforge-test' with object id '11111111-1111-1111-1111-111111111111' does not have "
                f"authorization to perform action over scope '/subscriptions/{sub}{rest}' or the scope is invalid. "
                "If access was recently granted, please refresh your credentials."))
        if emu.throttle > 0:
            emu.throttle -= 1
            kind = "read" if self.command == "GET" else "write"
            return self._error(429, "SubscriptionRequestsThrottled", (
                f"Number of '{kind}' requests for subscription '{sub}' actor '11111111-1111-1111-1111-111111111111' "
                f"exceeded. Please try again after '{emu.throttle_retry_after}' seconds after additional tokens are "
                "available. Refer to https://aka.ms/arm-throttling"), {"Retry-After": emu.throttle_retry_after})
        api = query["api-version"][0]
        if self.command == "GET":
            group = re.match(r"^/resourcegroups/([^/]+)$", rest, re.I)
            if group:
                return self._resource_group(sub, group.group(1))
            provider = re.match(r"^/providers/([^/]+)$", rest, re.I)
            if provider:
                return self._provider(sub, provider.group(1))
            workspace = re.match(r"^/resourcegroups/([^/]+)/providers/Microsoft\.MachineLearningServices/workspaces/"
                                 r"([^/]+)$", rest, re.I)
            if workspace:
                return self._workspace(sub, workspace.group(1), workspace.group(2))
        usages = re.match(r"^/providers/Microsoft\.MachineLearningServices/locations/([^/]+)/usages$", rest, re.I)
        if usages and self.command == "GET":
            return self._usages(sub, usages.group(1).lower(), query)
        op = re.match(r"^/operationresults/([^/]+)$", rest, re.I)
        if op and self.command == "GET":
            return self._location_poll(op.group(1))
        dm = re.match(r"^/resourcegroups/([^/]+)/providers/Microsoft\.Resources/deployments/([^/]+)(/.*)?$",
                      rest, re.I)
        if not dm:
            return self._error(404, "InvalidResourceType", "The resource type could not be found in the namespace.")
        rg, name, tail = dm.group(1), dm.group(2), (dm.group(3) or "")
        location = emu.resource_groups.get((sub, rg.lower()))
        if location is None:
            return self._error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        if tail.lower().startswith("/operationstatuses/") and self.command == "GET":
            return self._async_poll(tail.split("/")[-1])
        ctx = (sub, rg, location, name, api)
        if tail.lower() == "/validate" and self.command == "POST":
            return self._validate(ctx, body)
        if tail.lower() == "/whatif" and self.command == "POST":
            return self._what_if(ctx, body)
        if tail == "" and self.command == "PUT":
            return self._deploy(ctx, body)
        if tail == "" and self.command == "GET":
            record = emu.deployments.get(name.lower())
            if record is None:
                return self._error(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
            return self._send(200, record)
        return self._error(405, "MethodNotAllowed", f"{self.command} {tail or '/'} is not emulated")

    # template checks shared by validate, what-if and deploy (synchronous 400, as ARM does)
    def _template_error(self, ctx: tuple, body: Any) -> bool:
        props = (body or {}).get("properties") or {}
        template = props.get("template")
        if not isinstance(template, dict) or not isinstance(template.get("resources"), (list, dict)):
            self._error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                      "'Could not find member 'template' on object'.")
            return True
        if str(props.get("mode", "")).lower() not in ("incremental", "complete"):
            self._error(400, "InvalidDeploymentMode", f"The deployment mode '{props.get('mode')}' is not supported.")
            return True
        ev = Expressions(template, props.get("parameters") or {}, ctx[0], ctx[1], ctx[2])
        missing = ev.missing_parameters()
        if missing:
            self._error(400, "InvalidTemplate", (
                f"Deployment template validation failed: 'The value for the template parameter '{missing[0]}' at line "
                "'1' and column '1' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage "
                "details.'."), target=self._deployment_id(ctx))
            return True
        return False

    def _deployment_id(self, ctx: tuple) -> str:
        sub, rg, _, name, _ = ctx
        return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}"

    def _start(self, op: Operation, status: int, header: str, ctx: tuple, body: Any = None) -> None:
        emu = self.emulator
        op_id = uuid.uuid4().hex
        emu.operations[op_id] = op
        sub, rg, _, name, api = ctx
        if header == "Location":
            url = f"{emu.endpoint}/subscriptions/{sub}/operationresults/{op_id}?api-version={api}"
        else:
            url = (f"{emu.endpoint}/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/"
                   f"deployments/{name}/operationStatuses/{op_id}?api-version={api}")
        headers = {header: url}
        if emu.lro_retry_after is not None:
            headers["Retry-After"] = emu.lro_retry_after
        self._send(status, body, headers)

    def _validate(self, ctx: tuple, body: Any) -> None:
        if self._template_error(ctx, body):
            return
        props = body["properties"]
        sub, rg, location, name, _ = ctx
        resources = expand(props["template"], props.get("parameters") or {}, sub, rg, location)
        result = {"id": self._deployment_id(ctx), "name": name, "type": "Microsoft.Resources/deployments",
                  "properties": {"provisioningState": "Succeeded", "mode": props["mode"],
                                 "correlationId": self._correlation, "timestamp": _now(),
                                 "templateHash": str(abs(hash(json.dumps(props["template"], sort_keys=True)))),
                                 "parameters": {k: {"type": "String", **v} for k, v in (props.get("parameters") or {}).items()},
                                 "validatedResources": [{"id": i} for i in dict.fromkeys(r["id"] for r in resources)]}}
        self._start(Operation("validate", ["202"] * self.emulator.running_polls, result), 202, "Location", ctx)

    def _what_if(self, ctx: tuple, body: Any) -> None:
        if self._template_error(ctx, body):
            return
        emu = self.emulator
        props = body["properties"]
        sub, rg, location, _, _ = ctx
        planned = {}
        for r in expand(props["template"], props.get("parameters") or {}, sub, rg, location):
            planned[r["id"].lower()] = r  # a later PUT of the same resource wins
        changes = []
        for key, after in planned.items():
            before = emu.resources.get(key)
            if before is None:
                changes.append({"resourceId": after["id"], "changeType": "Create", "after": after})
                continue
            compared_before = {k: before[k] for k in COMPARED if k in before}
            compared_after = {k: after[k] for k in COMPARED if k in after}
            diff = delta(compared_before, compared_after)
            changes.append({"resourceId": after["id"], "changeType": "Modify" if diff else "NoChange",
                            "before": before, "after": {**before, **after}, **({"delta": diff} if diff else {})})
        prefix = f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
        complete = str(props.get("mode")).lower() == "complete"
        for key, before in emu.resources.items():
            if key.startswith(prefix) and key not in planned:
                if complete:
                    changes.append({"resourceId": before["id"], "changeType": "Delete", "before": before})
                else:
                    changes.append({"resourceId": before["id"], "changeType": "Ignore", "before": before})
        result = {"status": "Succeeded", "properties": {"changes": changes}}
        self._start(Operation("whatif", ["202"] * emu.running_polls, result), 202, "Location", ctx)

    def _deploy(self, ctx: tuple, body: Any) -> None:
        if self._template_error(ctx, body):
            return
        emu = self.emulator
        props = body["properties"]
        sub, rg, location, name, _ = ctx
        resources = expand(props["template"], props.get("parameters") or {}, sub, rg, location)
        record = {"id": self._deployment_id(ctx), "name": name, "type": "Microsoft.Resources/deployments",
                  "properties": {"provisioningState": "Accepted", "mode": props["mode"], "timestamp": _now(),
                                 "correlationId": self._correlation, "duration": "PT0S",
                                 "parameters": {k: {"type": "String", **v} for k, v in (props.get("parameters") or {}).items()},
                                 "dependencies": []}}
        emu.deployments[name.lower()] = record
        statuses = ["Running"] * emu.running_polls
        op = Operation("deploy", statuses)
        if emu.fail_deployment:
            target = resources[-1]["id"] if resources else self._deployment_id(ctx)
            op.error = {"code": "DeploymentFailed", "target": self._deployment_id(ctx),
                        "message": DEPLOYMENT_FAILED_MESSAGE,
                        "details": [{"code": "ResourceDeploymentFailure", "target": target,
                                     "message": emu.fail_deployment}]}

        def done(succeeded: bool) -> None:
            record["properties"]["provisioningState"] = "Succeeded" if succeeded else "Failed"
            record["properties"]["duration"] = "PT12.5S"
            if succeeded:
                for r in resources:
                    emu.add_resource(r)
                record["properties"]["outputResources"] = [{"id": i} for i in dict.fromkeys(r["id"] for r in resources)]
            else:
                record["properties"]["error"] = op.error

        op.on_done = done
        self._start(op, 201, "Azure-AsyncOperation", ctx, record)

    def _async_poll(self, op_id: str) -> None:
        op = self.emulator.operations.get(op_id)
        if op is None:
            return self._error(404, "OperationNotFound", f"Operation '{op_id}' could not be found.")
        if op.polls < len(op.statuses):
            op.polls += 1
            return self._send(200, {"status": op.statuses[op.polls - 1]})
        if op.on_done is not None:
            op.on_done(op.error is None)
            op.on_done = None
        if op.error is not None:
            return self._send(200, {"status": "Failed", "error": op.error})
        return self._send(200, {"status": "Succeeded"})

    def _location_poll(self, op_id: str) -> None:
        op = self.emulator.operations.get(op_id)
        if op is None:
            return self._error(404, "OperationNotFound", f"Operation '{op_id}' could not be found.")
        if op.polls < len(op.statuses):
            op.polls += 1
            headers = {"Location": f"{self.emulator.endpoint}{self.path}"}
            return self._send(202, None, headers)
        return self._send(200, op.result)

    # pre-flight reads (azure-mgmt-resource's ResourceManagementClient)
    def _forbidden(self, kind: str, action: str, scope: str) -> bool:
        if kind not in self.emulator.forbidden_reads:
            return False
        self._error(403, "AuthorizationFailed", (
            "The client 'amlforge-test' with object id '11111111-1111-1111-1111-111111111111' does not have "
            f"authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
            "recently granted, please refresh your credentials."))
        return True

    def _resource_group(self, sub: str, rg: str) -> None:
        if self._forbidden("resourceGroups", "Microsoft.Resources/subscriptions/resourcegroups/read",
                           f"/subscriptions/{sub}/resourcegroups/{rg}"):
            return
        location = self.emulator.resource_groups.get((sub, rg.lower()))
        if location is None:
            return self._error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        self._send(200, {"id": f"/subscriptions/{sub}/resourceGroups/{rg}", "name": rg, "location": location,
                         "properties": {"provisioningState": "Succeeded"}})

    def _provider(self, sub: str, namespace: str) -> None:
        if self._forbidden("providers", "Microsoft.Resources/subscriptions/providers/read", f"/subscriptions/{sub}"):
            return
        state = self.emulator.providers.get(namespace.lower(), "NotRegistered")
        self._send(200, {"id": f"/subscriptions/{sub}/providers/{namespace}", "namespace": namespace,
                         "registrationState": state, "registrationPolicy": "RegistrationRequired",
                         "resourceTypes": [{"resourceType": "workspaces", "locations": ["West Europe", "East US"],
                                            "apiVersions": ["2026-05-01", "2025-12-01", "2024-10-01", "2024-04-01"]}]})

    def _workspace(self, sub: str, rg: str, name: str) -> None:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ML_NAMESPACE}/workspaces/{name}"
        if self._forbidden("workspaces", f"{ML_NAMESPACE}/workspaces/read", rid):
            return
        emu = self.emulator
        if (sub, rg.lower()) not in emu.resource_groups:
            return self._error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        location = emu.workspaces.get((sub, rg.lower()), {}).get(name.lower())
        if location is None:
            return self._error(404, "ResourceNotFound", (
                f"The Resource '{ML_NAMESPACE}/workspaces/{name}' under resource group '{rg}' was not found. For more "
                "details please go to https://aka.ms/ARMResourceNotFoundFix"))
        self._send(200, {"id": rid, "name": name, "type": f"{ML_NAMESPACE}/workspaces", "location": location,
                         "properties": {"friendlyName": name, "hbiWorkspace": False, "publicNetworkAccess": "Enabled",
                                        "provisioningState": "Succeeded"}})

    def _usages(self, sub: str, region: str, query: dict[str, list[str]]) -> None:
        rows = self.emulator.usages.get((sub, region))
        if rows is None:
            return self._error(400, "NoRegisteredProviderFound", (
                f"No registered resource provider found for location '{region}' and API version "
                f"'{query['api-version'][0]}' for type 'locations/usages'. The supported api-versions are "
                "'2024-04-01, 2024-10-01, 2025-12-01'. The supported locations are 'eastus, westeurope, "
                "northeurope, swedencentral'."))
        page = int((query.get("page") or ["0"])[0])
        size = max(1, (len(rows) + 1) // 2)  # two pages, to exercise nextLink
        chunk = rows[page * size:(page + 1) * size]
        body: dict[str, Any] = {"value": chunk}
        if (page + 1) * size < len(rows):
            body["nextLink"] = (f"{self.emulator.endpoint}/subscriptions/{sub}/providers/"
                                f"Microsoft.MachineLearningServices/locations/{region}/usages?"
                                f"api-version={query['api-version'][0]}&page={page + 1}")
        self._send(200, body)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def usage_row(sub: str, family: str, current: int, limit: int, *, workspace: str | None = None,
              low_priority: bool = False) -> dict[str, Any]:
    """One row as in the Usage/list.json example: ``family`` like "Standard DSv2 Family"."""
    kind = "LowPriority" if low_priority else "Dedicated"
    label = f"{family} Cluster {kind} vCPUs"
    slug = label.replace(" ", "_")
    if workspace:
        rid = (f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/"
               f"{workspace}/usages/{slug}")
        rtype = "Microsoft.MachineLearningServices/workspaces/usages"
    else:
        rid, rtype = f"/subscriptions/{sub}/usages/{slug}", "Microsoft.MachineLearningServices/vmFamily/usages"
    return {"id": rid, "type": rtype, "currentValue": current, "limit": -1 if low_priority else limit,
            "name": {"value": label, "localizedValue": label}, "unit": "Count"}


def regional_row(sub: str, current: int, limit: int) -> dict[str, Any]:
    label = "Total Cluster Dedicated Regional vCPUs"
    return {"id": f"/subscriptions/{sub}/usages", "type": "Microsoft.MachineLearningServices/dedicatedCores/usages",
            "currentValue": current, "limit": limit, "name": {"value": label, "localizedValue": label},
            "unit": "Count"}


def clusters_row(sub: str, current: int, limit: int) -> dict[str, Any]:
    return {"id": f"/subscriptions/{sub}/usages", "type": "Microsoft.MachineLearningServices/totalCores/usages",
            "currentValue": current, "limit": limit, "name": {"value": "Clusters", "localizedValue": "Clusters"},
            "unit": "Count"}
