"""Pre-flight checks before ``amlforge azure validate|what-if|deploy``, with azure-mgmt-resource.

Three reads through ``azure.mgmt.resource.resources.ResourceManagementClient`` (the resource
groups, providers and generic resources operations that stayed in azure-mgmt-resource when
its Deployments operations moved out in 25.0), made before the deployments call so that the
commonest first-deploy failures come back as one located message with a hint, before ARM
spends time on the template:

1. the resource group: ``GET /subscriptions/{sub}/resourcegroups/{rg}`` (``resource_groups.get``,
   200 or 404 ``ResourceGroupNotFound``). Missing -> an error that names the group and the
   subscription, hint ``az group create -n RG -l REGION``. Its ``location`` differing from the
   region the template deploys to is a note.
2. the ``Microsoft.MachineLearningServices`` provider: ``GET /subscriptions/{sub}/providers/
   Microsoft.MachineLearningServices`` (``providers.get``): a ``registrationState`` other than
   ``Registered`` -> a note with the hint ``az provider register --namespace
   Microsoft.MachineLearningServices``: not an error, because ARM registers the providers a
   template uses when the caller may register them (else it answers
   ``MissingSubscriptionRegistration``). A workspace read answered with that code is an error.
3. the Azure ML workspace the template deploys into (its ``workspaceName`` parameter):
   ``GET {workspace id}?api-version=<the template's ML api-version>`` (``resources.get_by_id``,
   200 or 404 ``ResourceNotFound``). Missing -> an error at the spec's ``target.workspace`` or
   the parameters file. Skipped when the template creates the workspace itself.

Pre-flight never blocks what ARM would accept for a reason of its own: a read refused for lack
of permission (403), throttled past the retries, a server error or an answer it cannot use
becomes a printed note and the operation goes on (ARM then answers for itself). What would
fail the operation just the same (no credentials, 401, an unknown subscription, an unreachable
or untrusted endpoint) is reported at once, with the message the operation would give.
``--no-preflight`` skips all of it.

The client is built like the deployments client (:meth:`~.arm.Target.client_options`: the same
credential, endpoint, token scope, retries and CA bundle), and azure-mgmt-resource is imported
only when pre-flight runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.integrations.azure.errors import ArmError, Call, response_error, translate
from amlforge.integrations.azure.quota import REGION_RE

ML_NAMESPACE = "Microsoft.MachineLearningServices"
WORKSPACE_TYPE = f"{ML_NAMESPACE}/workspaces"
#: The workspace is read with the api-version of the template's ML resources, else this one (the
#: default ``target.api_version`` of a spec).
DEFAULT_ML_API_VERSION = "2026-05-01"
WORKSPACE_NAME_RE = LazyPattern(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}\Z")
API_VERSION_RE = LazyPattern(r"^\d{4}-\d{2}-\d{2}(-preview)?\Z")

#: What each read needs, for the note when it is refused.
GROUP_READ = "Reader on the resource group (Microsoft.Resources/subscriptions/resourceGroups/read)"
PROVIDER_READ = "Reader on the subscription (Microsoft.Resources/subscriptions/providers/read)"
WORKSPACE_READ = f"Reader on the workspace or its resource group ({WORKSPACE_TYPE}/read)"

#: The operation pre-flight runs before, as the messages say it.
OPERATIONS = {"validate": "validating the template", "what-if": "running what-if", "deploy": "deploying"}


# --- what the template needs ------------------------------------------------------------------


class Plan(Struct, frozen=True):
    """What pre-flight checks for one template, worked out without asking Azure.

    Attributes:
        uses_ml: The template has ``Microsoft.MachineLearningServices`` resources.
        creates_workspace: The template creates the workspace itself (no workspace check).
        workspace: The workspace name (the ``workspaceName`` parameter), when it is a plain value.
        workspace_at: Where that name is written (spec line or parameters file), for the error.
        api_version: The api-version the workspace is read with.
        region: The region the template deploys to, when known.
        region_from: Where that region comes from, for messages.
    """

    uses_ml: bool
    creates_workspace: bool
    workspace: str | None
    workspace_at: Location | None
    api_version: str
    region: str | None
    region_from: str


def _resources(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a template and of its nested templates."""
    resources = template.get("resources") or []
    if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
        resources = list(resources.values())
    out: list[dict[str, Any]] = []
    for r in resources:
        if not isinstance(r, dict):
            continue
        out.append(r)
        if str(r.get("type", "")).lower() == "microsoft.resources/deployments":
            inner = (r.get("properties") or {}).get("template")
            if isinstance(inner, dict):
                out.extend(_resources(inner))
    return out


def _literal(value: Any) -> str | None:
    """A plain string value (not an ARM ``[expression]``)."""
    return value if isinstance(value, str) and value and not value.startswith("[") else None


def _parameter(dep: Any, name: str) -> str | None:
    """The value of a template parameter: supplied, else its plain default."""
    given = next((v for k, v in dep.parameters.items() if k.lower() == name.lower()), None)
    if isinstance(given, dict) and "value" in given:
        return _literal(given["value"])
    if given is not None:  # a Key Vault reference
        return None
    declared = next((v for k, v in (dep.template.get("parameters") or {}).items() if k.lower() == name.lower()), None)
    if isinstance(declared, dict):
        return _literal(declared.get("defaultValue"))
    return None


def _line_of(path: Path, needle: str) -> int:
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if needle in line:
                return n
    except (OSError, UnicodeDecodeError):
        pass
    return 0


def target_region(dep: Any) -> tuple[str | None, str]:
    """The region the template deploys to: the spec's ``target.region``, else the ``location`` parameter."""
    if dep.spec is not None:
        return str(dep.spec.spec.target.region), "target.region of the spec"
    value = _parameter(dep, "location")
    if value and REGION_RE.match(value.replace(" ", "").lower()):
        return value, "the template's location parameter"
    return None, ""


def plan(dep: Any) -> Plan:
    """What to check for ``dep`` (a :class:`~.arm.DeploymentInput`)."""
    from amlforge.specs.loader import display_path

    resources = _resources(dep.template)
    types = [str(r.get("type", "")) for r in resources]
    ml = [r for r, t in zip(resources, types) if t.lower().startswith(ML_NAMESPACE.lower() + "/")]
    creates = any(t.lower() == WORKSPACE_TYPE.lower() for t in types)
    api_version = next((str(r["apiVersion"]) for r in ml if API_VERSION_RE.match(str(r.get("apiVersion", "")))),
                       DEFAULT_ML_API_VERSION)
    workspace = _parameter(dep, "workspaceName")
    if workspace is None:  # a template of its own: child resources named "ws/..." literally
        names = {n.split("/")[0] for n in (_literal(r.get("name")) for r in ml) if n and "/" in n}
        workspace = names.pop() if len(names) == 1 else None
    if workspace is not None and not WORKSPACE_NAME_RE.match(workspace):
        workspace = None  # not a workspace name: ARM says what is wrong with it
    where: Location | None = None
    overridden = dep.parameters_file is not None and _line_of(Path(dep.parameters_file), '"workspaceName"')
    if dep.spec is not None and not overridden:
        where = dep.spec.source.locate(("target", "workspace"))
    elif dep.parameters_file is not None:
        path = Path(dep.parameters_file)
        where = Location(display_path(path), _line_of(path, '"workspaceName"'))
    else:
        where = Location(dep.source)
    region, region_from = target_region(dep)
    return Plan(bool(ml), creates, workspace, where, api_version, region, region_from)


# --- the checks -------------------------------------------------------------------------------


class Report(Struct):
    """What pre-flight found: the checks that passed, and notes (skipped checks, differences)."""

    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``pre-flight: resource group 'rg' (westeurope), ...: ok`` (the checks that passed)."""
        return "pre-flight: " + ", ".join(self.passed) + ": ok"


class _CouldNotCheck(Exception):
    """A read that gave no usable answer: a note, and (``stop``) no more reads."""

    def __init__(self, label: str, stop: bool) -> None:
        super().__init__(label)
        self.label = label
        self.stop = stop


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """``cls`` of the SDK calls: keep the JSON Azure sent, not the SDK's models."""
    try:
        return pipeline_response.http_response.json()
    except Exception:  # noqa: BLE001 - an empty or non-JSON body
        return None


def _status(exc: Any) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None and getattr(exc, "response", None) is not None:
        status = getattr(exc.response, "status_code", None)
    return status


def _read(fn: Any, call: Call) -> tuple[dict[str, Any] | None, ArmError | None]:
    """``(body, None)``, or ``(None, error)`` for a 404 or a 409 ``MissingSubscriptionRegistration``.

    Raises:
        UserInputError: what would fail the operation too (credentials, subscription, network, TLS).
        _CouldNotCheck: anything else (403, 429 past the retries, 5xx, an unusable answer).
    """
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError, ServiceRequestError

    try:
        body = fn()
    except AzureError as e:
        status = _status(e)
        if isinstance(e, ServiceRequestError) or status == 401 or (
                isinstance(e, ClientAuthenticationError) and status is None):
            raise translate(e, call) from None
        if isinstance(e, HttpResponseError) and status is not None:
            error, _ = response_error(e)
            code = error.code if error else ""
            if code.lower() == "subscriptionnotfound":
                raise translate(e, call) from None
            if status == 404 or code.lower() == "missingsubscriptionregistration":
                return None, error or ArmError("NotFound", "")
            label = f"HTTP {status}" + (f" {code}" if code else "")
            if status == 429:
                tries = call.max_retries
                label += f", retried {'once' if tries == 1 else f'{tries} times'}"
            raise _CouldNotCheck(label, stop=status != 403) from None
        text = str(getattr(e, "message", "") or e).strip().splitlines()
        raise _CouldNotCheck(text[0] if text else type(e).__name__, stop=True) from None
    if not isinstance(body, dict):
        raise _CouldNotCheck("the answer is not a JSON object", stop=True)
    return body, None


def _same_region(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


def _group_error(target: Any, dep: Any, p: Plan, error: ArmError | None) -> UserInputError:
    label = "HTTP 404" + (f" {error.code}" if error and error.code else "")
    message = f": {error.message}" if error and error.message else ""
    where = None
    if dep.spec is not None and dep.resource_group == target.resource_group:
        where = dep.spec.source.locate(("target", "resource_group"))
    return UserInputError(
        f"resource group '{target.resource_group}' does not exist in subscription {target.subscription} "
        f"({label}){message}", where,
        f"create it: az group create -n {target.resource_group} -l {p.region or 'REGION'} --subscription "
        f"{target.subscription} (or fix --resource-group / target.resource_group)")


def _provider_problem(target: Any, state: str) -> tuple[str, str]:
    """Message and hint for a subscription not registered for the ML provider."""
    message = (f"the subscription {target.subscription} is not registered for the {ML_NAMESPACE} resource provider "
               f"(registrationState: {state})")
    if state.lower() == "registering":
        hint = (f"registration is under way: wait until 'az provider show --namespace {ML_NAMESPACE} --subscription "
                f"{target.subscription} --query registrationState' says Registered (a few minutes)")
    else:
        hint = (f"register it once per subscription: az provider register --namespace {ML_NAMESPACE} --subscription "
                f"{target.subscription} (it needs Contributor on the subscription and takes a few minutes)")
    return message, hint


def _provider_error(target: Any, state: str) -> UserInputError:
    message, hint = _provider_problem(target, state)
    return UserInputError(message + "; ARM refuses the template with MissingSubscriptionRegistration", None, hint)


def _workspace_error(target: Any, p: Plan, error: ArmError | None) -> UserInputError:
    label = "HTTP 404" + (f" {error.code}" if error and error.code else "")
    rg = target.resource_group
    return UserInputError(
        f"Azure ML workspace '{p.workspace}' does not exist in resource group '{rg}' of subscription "
        f"{target.subscription} ({label}); the template deploys into it", p.workspace_at,
        f"create it (az ml workspace create -n {p.workspace} -g {rg} -l {p.region or 'REGION'}), or name an "
        f"existing one in the workspaceName parameter / target.workspace ('az ml workspace list -g {rg} -o table')")


def run(client: Any, dep: Any, target: Any, operation: str, p: Plan | None = None) -> Report:
    """The checks, with ``client`` (a ``ResourceManagementClient``).

    Raises:
        UserInputError: a check failed (exit code 2), or the reads failed in a way the operation
            would fail too.
    """
    p = p or plan(dep)
    report = Report()
    sub, rg = target.subscription, target.resource_group
    before = OPERATIONS.get(operation, operation)

    def call(what: str, permission: str) -> Call:
        return Call(f"{what} before {before}", target.endpoint, sub, rg, region=p.region or "",
                    max_retries=target.max_retries, permission=permission)

    def could_not(what: str, why: _CouldNotCheck, permission: str) -> bool:
        if why.stop:
            report.notes.append(f"pre-flight could not {what} ({why.label}); the remaining checks are left to "
                                "Azure Resource Manager")
        else:
            report.notes.append(f"pre-flight could not {what} ({why.label}); that needs {permission}; going on "
                                "without this check")
        return why.stop

    # 1. the resource group
    try:
        body, missing = _read(lambda: client.resource_groups.get(rg, cls=_raw), call(f"read resource group '{rg}'",
                                                                                    GROUP_READ))
    except _CouldNotCheck as why:
        if could_not(f"read resource group '{rg}'", why, GROUP_READ):
            return report
    else:
        if missing is not None:
            raise _group_error(target, dep, p, missing)
        location = str((body or {}).get("location") or "")
        report.passed.append(f"resource group '{rg}'" + (f" ({location})" if location else ""))
        if location and p.region and not _same_region(location, p.region):
            report.notes.append(f"resource group '{rg}' is in {location}, {p.region_from} is {p.region}: the "
                                f"resources are created in {p.region} (a group's region only holds its metadata); "
                                "check that this is the group you meant")

    if not p.uses_ml:
        return report

    # 2. the resource provider
    what = f"read the registration of {ML_NAMESPACE}"
    try:
        body, missing = _read(lambda: client.providers.get(ML_NAMESPACE, cls=_raw), call(what, PROVIDER_READ))
    except _CouldNotCheck as why:
        if could_not(what, why, PROVIDER_READ):
            return report
    else:
        state = str((body or {}).get("registrationState") or "")
        if missing is not None or not state:
            report.notes.append(f"pre-flight could not {what} (no registrationState in the answer); going on "
                                "without this check")
        elif state.lower() != "registered":
            # not an error: ARM registers the providers a template uses when the caller may register
            # them (Microsoft Learn, "Azure resource providers and types"); otherwise it answers
            # MissingSubscriptionRegistration itself
            message, hint = _provider_problem(target, state)
            report.notes.append(f"{message}: ARM registers it during the deployment if you may register providers, "
                                f"else refuses the template with MissingSubscriptionRegistration; {hint}")
        else:
            report.passed.append(f"{ML_NAMESPACE} registered")

    # 3. the workspace
    if p.creates_workspace:
        return report
    if p.workspace is None:
        report.notes.append("pre-flight did not check the workspace: no plain value for the template's workspaceName "
                            "parameter")
        return report
    rid = (f"/subscriptions/{quote(sub, safe='')}/resourceGroups/{quote(rg, safe='')}/providers/{WORKSPACE_TYPE}/"
           f"{p.workspace}")
    what = f"read workspace '{p.workspace}'"
    try:
        body, missing = _read(lambda: client.resources.get_by_id(rid, api_version=p.api_version, cls=_raw),
                              call(what, WORKSPACE_READ))
    except _CouldNotCheck as why:
        could_not(what, why, WORKSPACE_READ)
        return report
    if missing is not None:
        code = missing.code.lower()
        if code == "resourcegroupnotfound":
            raise _group_error(target, dep, p, missing)
        if code == "missingsubscriptionregistration":
            raise _provider_error(target, "NotRegistered")
        raise _workspace_error(target, p, missing)
    location = str((body or {}).get("location") or "")
    report.passed.append(f"workspace '{p.workspace}'" + (f" ({location})" if location else ""))
    if location and p.region and not _same_region(location, p.region):
        report.notes.append(f"workspace '{p.workspace}' is in {location}, {p.region_from} is {p.region}: online "
                            "endpoints and their deployments live in their workspace's region; check the region")
    return report


def preflight(dep: Any, target: Any, operation: str) -> Report:
    """Build the client and :func:`run` the checks; what cannot be done becomes a note.

    Raises:
        UserInputError: a check failed, or the reads failed in a way the operation would fail too.
    """
    try:
        from azure.mgmt.resource.resources import ResourceManagementClient
    except ImportError as e:
        return Report(notes=[f"pre-flight skipped: azure-mgmt-resource cannot be imported ({e})"])
    try:
        p = plan(dep)
        with ResourceManagementClient(target.credential(), target.subscription, **target.client_options()) as client:
            return run(client, dep, target, operation, p)
    except UserInputError:
        raise
    except Exception as e:  # noqa: BLE001 - pre-flight must never block what ARM would accept
        if os.environ.get("AMLFORGE_DEBUG"):
            import traceback

            traceback.print_exc()
        return Report(notes=[f"pre-flight skipped after an unexpected {type(e).__name__}: {e}"])


__all__ = ["DEFAULT_ML_API_VERSION", "ML_NAMESPACE", "OPERATIONS", "Plan", "Report", "plan", "preflight", "run",
           "target_region"]
