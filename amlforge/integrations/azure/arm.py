"""Hand an ARM template to Azure Resource Manager: validate, what-if, deploy.

What is deployed (:func:`load_input`):

- an ARM template file (``arm/azuredeploy.json`` as ``amlforge generate`` writes it, or any
  template), with ``--parameters FILE`` or the ``<name>.parameters.json`` beside it; or
- an ``amlforge.yaml`` spec (or its folder): the template and parameters are generated in memory
  with the generator's public functions (``load_spec``, ``read_inputs``, ``render_files``), and
  the spec's ``target`` gives the subscription and resource group when no option does.

The three operations go through ``DeploymentsMgmtClient.deployments`` of
``azure-mgmt-resource-deployments`` (the ``Deployments`` operation group of azure-mgmt-resource
before 25.0), resource-group scope:

- ``POST .../providers/Microsoft.Resources/deployments/{name}/validate``: ``begin_validate``,
  a long-running operation (200, or 202 + ``Location``); HTTP 400 carries the validation error.
- ``POST .../deployments/{name}/whatIf``: ``begin_what_if`` (202 + ``Location``, then the
  ``WhatIfOperationResult``: ``status``, ``properties.changes[]`` with ``changeType`` Create,
  Delete, Ignore, Deploy, NoChange, Modify or Unsupported, and ``delta[]`` property changes).
- ``PUT .../deployments/{name}``: ``begin_create_or_update`` (201 + ``Azure-AsyncOperation``,
  polled until ``Succeeded``, ``Failed`` or ``Canceled``, then the deployment is read back).

Before them, :mod:`.preflight` reads the resource group, the provider registration and the
workspace with azure-mgmt-resource (same credential and transport: :meth:`Target.client_options`).

Results are kept as the JSON Azure sent (the documented REST shapes), not as SDK models, so
the output does not depend on the SDK's model generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.integrations.azure.errors import ArmError, ArmRejected, Call, azure_errors, response_error

SUBSCRIPTION_RE = LazyPattern(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
#: Resource group names: 1-90 of letters, digits, ``-_.()``, not ending in ``.`` (ARM naming rules).
RESOURCE_GROUP_RE = LazyPattern(r"^[-\w.()]{0,89}[-\w()]\Z")
#: Deployment names: 1-64 of letters, digits, ``-_.()``.
DEPLOYMENT_NAME_RE = LazyPattern(r"^[-\w.()]{1,64}\Z")
MODES = ("Incremental", "Complete")
#: The role that allows validate, what-if and deploy on a resource group.
DEPLOY_PERMISSION = ("Microsoft.Resources/deployments/* on the resource group and write access to its "
                     "resources (for example the Contributor role)")


# --- what to deploy ---------------------------------------------------------------------------


class DeploymentInput(Struct):
    """A template with its parameters, and where it came from.

    Attributes:
        template: The ARM template (JSON object).
        parameters: Parameter name -> ``{"value": ...}`` (or a Key Vault ``reference``).
        source: What the user passed, for messages.
        spec: The loaded spec (``None`` for a template file).
        inputs: The generator inputs of the spec (for the lint self-check before a deploy).
        subscription, resource_group: From the spec's ``target``, when it is a spec.
        lint_paths: The az-ml YAML beside a generated template (``<out>/azureml``), if any.
        parameters_file: The parameters file read (beside the template, or ``--parameters``), for
            the location of pre-flight errors.
    """

    template: dict[str, Any]
    parameters: dict[str, Any]
    source: str
    spec: Any = None
    inputs: Any = None
    subscription: str | None = None
    resource_group: str | None = None
    lint_paths: list[Path] = field(default_factory=list)
    parameters_file: Path | None = None


def _read_json(path: Path, what: str) -> Any:
    from amlforge.specs.loader import display_path

    display = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{what} does not exist", Location(display), "check the path") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserInputError(f"cannot read the {what}: {e}", Location(display), "check the file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UserInputError(f"the {what} is not valid JSON: {e.msg}", Location(display, e.lineno, e.colno),
                             "fix the JSON (ARM templates and parameter files are JSON)") from None


def read_parameters(path: Path) -> dict[str, Any]:
    """A parameters file (``deploymentParameters`` schema, or a bare ``{name: {"value": ...}}`` object).

    Raises:
        UserInputError: unreadable, not JSON, or not of that shape.
    """
    from amlforge.specs.loader import display_path

    data = _read_json(path, "parameters file")
    where = Location(display_path(path))
    if isinstance(data, dict) and "parameters" in data and ("$schema" in data or "contentVersion" in data):
        data = data["parameters"]
    if not isinstance(data, dict):
        raise UserInputError("a parameters file is a JSON object with a 'parameters' object", where,
                             'write {"parameters": {"workspaceName": {"value": "my-ws"}}}')
    for name, value in data.items():
        if not isinstance(value, dict) or not ({"value", "reference"} & set(value)):
            raise UserInputError(f"parameter '{name}' has no 'value' (or Key Vault 'reference')", where,
                                 f'write "{name}": {{"value": ...}}')
    return dict(data)


def _check_template(data: Any, display: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("resources"), (list, dict)):
        raise UserInputError("not an ARM template: a JSON object with a 'resources' list is expected",
                             Location(display), "pass arm/azuredeploy.json from 'amlforge generate', or amlforge.yaml")
    return data


def load_input(path: Path, parameters_file: Path | None = None) -> DeploymentInput:
    """What ``amlforge azure ...`` deploys: a template file, or a spec rendered in memory.

    Raises:
        UserInputError: a missing or unreadable file, invalid JSON, not a template, an invalid
            spec (:class:`~amlforge.specs.project_spec.SpecError` lists every problem).
    """
    from amlforge.specs.loader import display_path
    from amlforge.specs.project_spec import SPEC_FILE_NAMES

    path = Path(path)
    if path.is_dir():
        found = [path / n for n in SPEC_FILE_NAMES if (path / n).is_file()]
        if not found:
            raise UserInputError("the folder holds no amlforge.yaml", Location(display_path(path)),
                                 "pass amlforge.yaml, its folder, or an ARM template (arm/azuredeploy.json)")
        path = found[0]
    if not path.exists():
        raise UserInputError("the file does not exist", Location(display_path(path)),
                             "pass amlforge.yaml or an ARM template (arm/azuredeploy.json)")
    suffix = path.suffix.lower()
    if suffix == ".bicep":
        raise UserInputError("Bicep files are not sent as they are", Location(display_path(path)),
                             "pass the ARM JSON ('amlforge generate' writes arm/azuredeploy.json), or amlforge.yaml")
    if suffix in (".yaml", ".yml"):
        return _from_spec(path, parameters_file)
    display = display_path(path)
    template = _check_template(_read_json(path, "template"), display)
    if parameters_file is None:
        beside = path.with_name(f"{path.stem}.parameters.json")
        parameters_file = beside if beside.is_file() else None
    parameters = read_parameters(parameters_file) if parameters_file else {}
    lint = []
    generated_yaml = path.resolve().parent.parent / "azureml"
    if path.resolve().parent.name == "arm" and generated_yaml.is_dir():
        lint.append(generated_yaml)
    return DeploymentInput(template, parameters, display, lint_paths=lint, parameters_file=parameters_file)


def _from_spec(path: Path, parameters_file: Path | None) -> DeploymentInput:
    from amlforge.generators.inputs import ARM_DIR, read_inputs
    from amlforge.generators.pipeline import render_files
    from amlforge.specs.loader import display_path
    from amlforge.specs.project_spec import load_spec

    loaded = load_spec(path)
    inputs = read_inputs(loaded, loaded.folder / "generated")
    files = render_files(inputs, ("arm",))
    template = json.loads(files[f"{ARM_DIR}/azuredeploy.json"])
    parameters = json.loads(files[f"{ARM_DIR}/azuredeploy.parameters.json"])["parameters"]
    if parameters_file is not None:
        parameters.update(read_parameters(parameters_file))
    target = loaded.spec.target
    return DeploymentInput(template, parameters, display_path(path), spec=loaded, inputs=inputs,
                           subscription=target.subscription, resource_group=target.resource_group,
                           parameters_file=parameters_file)


def default_deployment_name(now: datetime | None = None) -> str:
    """``amlforge-20260101-120000`` (UTC): unique per second, within ARM's 64 characters."""
    return "amlforge-" + (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")


def check_names(subscription: str | None, resource_group: str | None, deployment_name: str) -> tuple[str, str]:
    """The subscription id and resource group, checked before any request.

    Raises:
        UserInputError: a missing or malformed value.
    """
    if not subscription:
        raise UserInputError("no subscription: pass --subscription ID", None,
                             "or set AZURE_SUBSCRIPTION_ID, or target.subscription in amlforge.yaml "
                             "('az account show --query id -o tsv' prints the current one)")
    if not SUBSCRIPTION_RE.match(subscription):
        raise UserInputError(f"--subscription is a subscription id (a GUID), got '{subscription}'", None,
                             "list yours with 'az account list -o table'")
    if not resource_group:
        raise UserInputError("no resource group: pass --resource-group NAME", None,
                             "or set target.resource_group in amlforge.yaml")
    if not RESOURCE_GROUP_RE.match(resource_group):
        raise UserInputError(f"'{resource_group}' is not a valid resource group name", None,
                             "use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'")
    if not DEPLOYMENT_NAME_RE.match(deployment_name):
        raise UserInputError(f"'{deployment_name}' is not a valid deployment name", None,
                             "use 1-64 letters, digits, '-', '_', '.', '(' or ')'")
    return subscription, resource_group


# --- the client -------------------------------------------------------------------------------


class Target(Struct):
    """Where the operations go and how they are retried and polled."""

    subscription: str
    resource_group: str
    deployment_name: str
    endpoint: str
    mode: str = "Incremental"
    max_retries: int = 3
    poll_interval: float = 10.0
    #: The region the template deploys to, when known (for hints such as ``az group create -l``).
    region: str = ""
    _credential: Any = field(default=None)

    def call(self, action: str) -> Call:
        return Call(action, self.endpoint, self.subscription, self.resource_group, region=self.region,
                    max_retries=self.max_retries, permission=DEPLOY_PERMISSION, verdicts=True)

    def credential(self) -> Any:
        """One credential for every client of the run (pre-flight and deployments)."""
        if self._credential is None:
            from amlforge.integrations.azure.credentials import get_credential

            self._credential = get_credential()
        return self._credential

    def client_options(self) -> dict[str, Any]:
        """What every management client of the run is built with: endpoint, token scope, retries."""
        from amlforge import __version__
        from amlforge.integrations.azure.credentials import credential_scopes, transport_options

        return {"base_url": self.endpoint, "credential_scopes": credential_scopes(self.endpoint),
                "user_agent": f"amlforge/{__version__}", **transport_options(self.max_retries)}


def deployments_client(target: Target) -> Any:
    """``DeploymentsMgmtClient`` for the target's subscription and endpoint.

    Raises:
        UserInputError: the Azure extra is not installed.
    """
    from amlforge.integrations.azure import require

    require("azure.core", "azure.mgmt.core", "azure.mgmt.resource.deployments")
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient(target.credential(), target.subscription, polling_interval=target.poll_interval,
                                 **target.client_options())


def _body(dep: DeploymentInput, mode: str, **extra: Any) -> dict[str, Any]:
    return {"properties": {"mode": mode, "template": dep.template, "parameters": dep.parameters, **extra}}


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """``cls`` of the SDK calls: keep the JSON Azure sent."""
    response = pipeline_response.http_response
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - an empty body
        return {}


# --- validate ---------------------------------------------------------------------------------


class ValidateResult(Struct):
    """A template ARM accepted: the resources it validated."""

    body: dict[str, Any]

    @property
    def resources(self) -> list[str]:
        props = self.body.get("properties") or {}
        return [r.get("id", "") for r in props.get("validatedResources") or [] if isinstance(r, dict)]

    def to_dict(self) -> dict[str, Any]:
        props = self.body.get("properties") or {}
        return {"valid": True, "provisioning_state": props.get("provisioningState"),
                "validated_resources": self.resources}


def _rejection(body: Any, summary: str) -> ArmRejected | None:
    error = ArmError.from_body((body or {}).get("error")) if isinstance(body, dict) else None
    return ArmRejected(summary, error) if error else None


def validate(client: Any, dep: DeploymentInput, target: Target) -> ValidateResult:
    """ARM's validate (template syntax, parameters, and the resource providers' preflight checks).

    Raises:
        ArmRejected: the template is not valid (exit code 1).
        UserInputError: anything that kept ARM from answering (exit code 2).
    """
    with azure_errors(target.call("validate the template")):
        poller = client.deployments.begin_validate(target.resource_group, target.deployment_name,
                                                   _body(dep, target.mode), cls=_raw)
        body = poller.result()
    rejected = _rejection(body, "Azure Resource Manager rejected the template")
    if rejected:
        raise rejected
    return ValidateResult(body if isinstance(body, dict) else {})


# --- what-if ----------------------------------------------------------------------------------

#: changeType -> (symbol, label), in display order (ARM's ChangeType enum).
CHANGE_TYPES = {
    "Create": ("+", "create"),
    "Modify": ("~", "modify"),
    "Delete": ("-", "delete"),
    "Deploy": ("!", "deploy (what-if cannot predict the properties)"),
    "NoChange": ("=", "no change"),
    "Ignore": ("*", "ignore"),
    "Unsupported": ("x", "unsupported by what-if"),
}
#: propertyChangeType -> symbol (ARM's PropertyChangeType enum).
PROPERTY_SYMBOLS = {"Create": "+", "Delete": "-", "Modify": "~", "Array": "~", "NoEffect": "x"}


def split_resource_id(resource_id: str) -> tuple[str, str]:
    """``/subscriptions/s/resourceGroups/g/providers/NS/t1/n1/t2/n2`` -> ``("NS/t1/t2", "n1/n2")``."""
    head, sep, tail = resource_id.rpartition("/providers/")
    if not sep:
        return "", resource_id
    parts = [p for p in tail.split("/") if p]
    if not parts:
        return "", resource_id
    namespace, rest = parts[0], parts[1:]
    types = [namespace] + rest[0::2]
    names = rest[1::2]
    return "/".join(types), "/".join(names)


class PropertyChange(Struct, frozen=True):
    """One ``WhatIfPropertyChange``: path, kind, before and after, nested changes."""

    path: str
    kind: str
    before: Any = None
    after: Any = None
    children: tuple[PropertyChange, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PropertyChange:
        return cls(str(data.get("path", "")), str(data.get("propertyChangeType", "")), data.get("before"),
                   data.get("after"), tuple(cls.from_json(c) for c in data.get("children") or [] if isinstance(c, dict)))

    def lines(self, indent: str, prefix: str = "") -> list[str]:
        path = f"{prefix}{self.path}" if not prefix or self.path.startswith("[") else f"{prefix}.{self.path}"
        if prefix and self.path.isdigit():
            path = f"{prefix}[{self.path}]"
        sym = PROPERTY_SYMBOLS.get(self.kind, "?")
        if self.children:
            out = [f"{indent}{sym} {path}:"]
            for c in self.children:
                out.extend(c.lines(indent + "    ", path))
            return out
        if self.kind == "Create":
            return [f"{indent}+ {path}: {_show(self.after)}"]
        if self.kind == "Delete":
            return [f"{indent}- {path}: {_show(self.before)}"]
        if self.kind == "NoEffect":
            return [f"{indent}x {path}: {_show(self.after)} (no effect: read-only or set by the service)"]
        return [f"{indent}~ {path}: {_show(self.before)} => {_show(self.after)}"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "change": self.kind, "before": self.before, "after": self.after}
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


def _show(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ResourceChange(Struct, frozen=True):
    """One ``WhatIfChange``."""

    change_type: str
    resource_id: str
    delta: tuple[PropertyChange, ...] = ()
    unsupported_reason: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceChange:
        return cls(str(data.get("changeType", "")), str(data.get("resourceId", "")),
                   tuple(PropertyChange.from_json(d) for d in data.get("delta") or [] if isinstance(d, dict)),
                   str(data.get("unsupportedReason") or ""))

    @property
    def type_and_name(self) -> tuple[str, str]:
        return split_resource_id(self.resource_id)

    def to_dict(self) -> dict[str, Any]:
        rtype, name = self.type_and_name
        out: dict[str, Any] = {"change": self.change_type, "resource_id": self.resource_id, "type": rtype,
                               "name": name}
        if self.delta:
            out["delta"] = [d.to_dict() for d in self.delta]
        if self.unsupported_reason:
            out["unsupported_reason"] = self.unsupported_reason
        return out


class WhatIfSummary(Struct):
    """The what-if result per resource: create, modify (with the property diff), delete, no change."""

    status: str
    changes: list[ResourceChange]
    resource_group: str = ""
    mode: str = "Incremental"

    @classmethod
    def from_json(cls, body: dict[str, Any], resource_group: str = "", mode: str = "Incremental") -> WhatIfSummary:
        props = body.get("properties") or {}
        changes = [ResourceChange.from_json(c) for c in props.get("changes") or [] if isinstance(c, dict)]
        order = list(CHANGE_TYPES)
        changes.sort(key=lambda c: (order.index(c.change_type) if c.change_type in order else len(order),
                                    c.resource_id.lower()))
        return cls(str(body.get("status") or ""), changes, resource_group, mode)

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in CHANGE_TYPES}
        for c in self.changes:
            out[c.change_type] = out.get(c.change_type, 0) + 1
        return out

    def render_text(self) -> str:
        lines = [f"What-if ({self.mode} mode) in resource group {self.resource_group}:", ""]
        if not self.changes:
            lines.append("  no resources in the template")
        for c in self.changes:
            sym, label = CHANGE_TYPES.get(c.change_type, ("?", c.change_type))
            rtype, name = c.type_and_name
            lines.append(f"  {sym} {label:<9}  {name}  ({rtype})")
            for d in c.delta:
                lines.extend(d.lines("        "))
            if c.unsupported_reason:
                lines.append(f"        reason: {c.unsupported_reason}")
        counts = self.counts()
        parts = [f"{counts[k]} to {CHANGE_TYPES[k][1]}" for k in ("Create", "Modify", "Delete")]
        parts += [f"{counts['NoChange']} unchanged"]
        parts += [f"{counts[k]} {CHANGE_TYPES[k][1]}" for k in ("Deploy", "Ignore", "Unsupported") if counts[k]]
        lines += ["", "Resource changes: " + ", ".join(parts) + "."]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "resource_group": self.resource_group, "mode": self.mode,
                "counts": {k: v for k, v in self.counts().items()}, "changes": [c.to_dict() for c in self.changes]}


def what_if(client: Any, dep: DeploymentInput, target: Target) -> WhatIfSummary:
    """ARM's what-if: the predicted change to every resource.

    Raises:
        ArmRejected: the template is not valid, or what-if failed (exit code 1).
        UserInputError: anything that kept ARM from answering (exit code 2).
    """
    body_in = _body(dep, target.mode, whatIfSettings={"resultFormat": "FullResourcePayloads"})
    with azure_errors(target.call("run what-if")):
        poller = client.deployments.begin_what_if(target.resource_group, target.deployment_name, body_in, cls=_raw)
        body = poller.result()
    body = body if isinstance(body, dict) else {}
    rejected = _rejection(body, "what-if failed")
    if rejected:
        raise rejected
    return WhatIfSummary.from_json(body, target.resource_group, target.mode)


# --- deploy -----------------------------------------------------------------------------------


class DeployResult(Struct):
    """A finished deployment, as ARM reports it."""

    body: dict[str, Any]
    seconds: float

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.get("properties") or {}

    @property
    def state(self) -> str:
        return str(self.properties.get("provisioningState") or "")

    @property
    def resources(self) -> list[str]:
        return [r.get("id", "") for r in self.properties.get("outputResources") or [] if isinstance(r, dict)]

    @property
    def outputs(self) -> dict[str, Any]:
        return {k: (v or {}).get("value") for k, v in (self.properties.get("outputs") or {}).items()}


def deploy(client: Any, dep: DeploymentInput, target: Target, *, timeout: float = 3600.0,
           progress: Callable[[str, float], None] | None = None, tick: float = 5.0) -> DeployResult:
    """Create or update the deployment and poll it to the end, calling ``progress(status, seconds)``.

    Raises:
        ArmRejected: ARM rejected the template, or the deployment failed or was canceled (exit code 1).
        UserInputError: anything that kept ARM from answering, or ``timeout`` passed (exit code 2;
            the deployment goes on in Azure).
    """
    from azure.core.exceptions import HttpResponseError

    start = time.monotonic()
    call = target.call("deploy the template")
    with azure_errors(call):  # an HTTP 400 here is ARM's verdict on the template: ArmRejected
        poller = client.deployments.begin_create_or_update(target.resource_group, target.deployment_name,
                                                           _body(dep, target.mode), cls=_raw)
    last = ""
    with azure_errors(call):
        try:
            while not poller.done():
                poller.wait(tick)
                elapsed = time.monotonic() - start
                status = str(poller.status())
                if progress is not None:
                    progress(status, elapsed)
                last = status
                if not poller.done() and elapsed > timeout:
                    raise UserInputError(
                        f"the deployment '{target.deployment_name}' is still {status} after {int(elapsed)} s; "
                        "it goes on in Azure", None,
                        f"follow it with 'az deployment group show -g {target.resource_group} -n "
                        f"{target.deployment_name}', or raise --timeout")
            body = poller.result()
        except HttpResponseError as e:
            # The operation status said Failed or Canceled: azure-core raises with the status
            # response ({"status": "Failed", "error": {"code": "DeploymentFailed", ...}}).
            status = str(poller.status() or last)
            if status.lower() in ("failed", "canceled", "cancelled"):
                error, correlation = response_error(e)
                raise ArmRejected(f"the deployment {status.lower()}", error, correlation) from None
            raise
    body = body if isinstance(body, dict) else {}
    result = DeployResult(body, time.monotonic() - start)
    if result.state and result.state.lower() != "succeeded":
        raise ArmRejected(f"the deployment ended {result.state}", ArmError.from_body(result.properties.get("error")))
    return result


__all__ = [
    "CHANGE_TYPES",
    "DeployResult",
    "DeploymentInput",
    "PropertyChange",
    "ResourceChange",
    "Target",
    "ValidateResult",
    "WhatIfSummary",
    "check_names",
    "default_deployment_name",
    "deploy",
    "deployments_client",
    "load_input",
    "read_parameters",
    "split_resource_id",
    "validate",
    "what_if",
]
