"""azure-core exceptions -> what the user reads: one message, a hint, an exit code. Never a traceback.

Two kinds of outcome:

- :class:`~amlforge.errors.UserInputError` (exit code 2): the question could not be asked: no
  credentials, no permission, an unknown subscription, resource group or region, throttling
  that outlasted the retries, a network failure, an untrusted TLS certificate.
- :class:`ArmRejected` (exit code 1): Azure answered, and its answer is "no": the template does
  not validate (HTTP 400 ``InvalidTemplate`` / ``InvalidTemplateDeployment`` with inner
  errors), or the deployment failed (the operation status ``Failed`` with ``DeploymentFailed``).

ARM error bodies are ``{"error": {"code", "message", "target", "details": [...]}}`` (the
common ARM error response; azure-mgmt-resource's ``CloudError``/``ErrorResponse`` models); the
``x-ms-correlation-request-id`` header is what Azure support asks for, so it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from msgspec import Struct, field

from amlforge.errors import AmlforgeError, UserInputError

#: Error codes that mean "this region does not offer the resource type" (ARM's resource provider
#: errors, docs: error-register-resource-provider.md and location errors).
REGION_CODES = {"noregisteredproviderfound", "locationnotavailableforresourcetype", "invalidlocation",
                "locationnotsupported", "unsupportedlocation"}


class ArmError(Struct, frozen=True):
    """One ARM error: code, message and inner errors."""

    code: str
    message: str
    details: tuple[ArmError, ...] = ()
    target: str = ""

    @classmethod
    def from_body(cls, body: Any) -> ArmError | None:
        """``{"error": {...}}`` (or the inner object itself) -> :class:`ArmError`."""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            body = body["error"]
        if not isinstance(body, dict) or not (body.get("code") or body.get("message")):
            return None
        details = tuple(d for d in (cls.from_body(x) for x in body.get("details") or [] if isinstance(x, dict)) if d)
        return cls(str(body.get("code") or ""), str(body.get("message") or "").strip(), details,
                   str(body.get("target") or ""))

    def lines(self, indent: str = "") -> list[str]:
        """``CODE: message`` then the inner errors, indented."""
        head = f"{indent}{self.code}: {self.message}" if self.code else f"{indent}{self.message}"
        out = [head + (f" (target: {self.target})" if self.target else "")]
        for d in self.details:
            out.extend(d.lines(indent + "  "))
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            out["target"] = self.target
        if self.details:
            out["details"] = [d.to_dict() for d in self.details]
        return out


class ArmRejected(AmlforgeError):
    """Azure's verdict was negative (exit code 1): invalid template or failed deployment."""

    exit_code = 1

    def __init__(self, summary: str, error: ArmError | None, correlation_id: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.error = error
        self.correlation_id = correlation_id

    def lines(self) -> list[str]:
        out = [self.summary]
        if self.error is not None:
            out.extend(self.error.lines("  "))
        if self.correlation_id:
            out.append(f"  correlation id: {self.correlation_id}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "error": self.error.to_dict() if self.error else None,
                "correlation_id": self.correlation_id or None}


class Call(Struct):
    """What was being done, for the messages."""

    action: str  # "validate the template", "read the quota", ...
    endpoint: str
    subscription: str = ""
    resource_group: str = ""
    region: str = ""
    max_retries: int = 3
    #: The role that grants the action, for the 403 hint.
    permission: str = ""
    #: HTTP 400 answers are ARM's verdict on the template (validate, what-if, deploy).
    verdicts: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def response_error(exc: Any) -> tuple[ArmError | None, str]:
    """The ARM error body and correlation id of an ``HttpResponseError`` (or of its response)."""
    response = getattr(exc, "response", None)
    correlation = ""
    body: Any = None
    if response is not None:
        headers = getattr(response, "headers", None) or {}
        correlation = headers.get("x-ms-correlation-request-id", "") or headers.get("x-ms-request-id", "") or ""
        try:
            body = json.loads(response.text())
        except Exception:  # noqa: BLE001 - not JSON, or no body: fall back to the exception text
            body = None
    error = ArmError.from_body(body)
    if error is None:
        err = getattr(exc, "error", None)  # azure-core's parsed ODataV4Format
        code = getattr(err, "code", None)
        if code:
            error = ArmError(str(code), str(getattr(err, "message", "") or "").strip())
    return error, correlation


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0].strip() if text else ""


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _status(exc: Any) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None and getattr(exc, "response", None) is not None:
        status = getattr(exc.response, "status_code", None)
    return status


def translate(exc: BaseException, call: Call) -> AmlforgeError:
    """An azure-core exception -> :class:`UserInputError` (exit 2) or :class:`ArmRejected` (exit 1)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    status = _status(exc)
    if isinstance(exc, ClientAuthenticationError) and status is None:
        # raised by the credential before any request: nothing to sign in with
        return UserInputError(
            f"no Azure credentials: {_first_line(getattr(exc, 'message', '') or str(exc))}", None,
            "sign in with 'az login', or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a "
            "service principal, or run where a managed identity is available (see docs/azure.md)")
    if isinstance(exc, HttpResponseError) and status is not None:
        return _http_error(exc, status, call)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        reason = _first_line(str(getattr(exc, "message", "") or exc))
        inner = getattr(exc, "inner_exception", None)
        text = f"{reason} {inner!r}"
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text or "certificate verify failed" in text:
            return UserInputError(
                f"the TLS certificate of {call.endpoint} is not trusted: {reason}", None,
                "behind a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE at its CA bundle")
        tried = f" (retried {_times(call.max_retries)})" if call.max_retries else ""
        verb = "cannot reach" if isinstance(exc, ServiceRequestError) else "lost the connection to"
        return UserInputError(
            f"{verb} Azure Resource Manager at {call.endpoint} to {call.action}{tried}: {reason}", None,
            "check the network and proxy settings (HTTPS_PROXY, NO_PROXY), and --arm-endpoint or "
            "AMLFORGE_ARM_ENDPOINT")
    return UserInputError(f"Azure error while trying to {call.action}: {_first_line(str(exc))}", None,
                          "run again with AMLFORGE_DEBUG=1 and report it if it persists")


def _http_error(exc: Any, status: int, call: Call) -> AmlforgeError:
    error, correlation = response_error(exc)
    code = error.code if error else ""
    message = error.message if error else _first_line(str(exc))
    label = f"HTTP {status}" + (f" {code}" if code else "")
    corr = f" (correlation id {correlation})" if correlation else ""
    lowered = code.lower()
    if status == 401:
        return UserInputError(
            f"Azure rejected the credentials ({label}): {message}", None,
            f"sign in again ('az login'), and check that the token is for {call.endpoint} and the "
            "subscription's tenant")
    if status == 403:
        need = f"; you need {call.permission}" if call.permission else ""
        return UserInputError(
            f"no permission to {call.action} ({label}): {message}", None,
            f"ask an owner of the subscription for a role that allows it{need}")
    if lowered == "subscriptionnotfound" or (status == 404 and "subscription" in message.lower()
                                              and not call.resource_group):
        return UserInputError(
            f"unknown subscription '{call.subscription}' ({label}): {message}", None,
            "check the id with 'az account list -o table' and that you are signed in to its tenant")
    if lowered == "resourcegroupnotfound":
        return UserInputError(
            f"resource group '{call.resource_group}' does not exist in subscription {call.subscription} "
            f"({label}): {message}", None,
            f"create it ('az group create -n {call.resource_group or 'RG'} -l {call.region or 'REGION'}') or fix "
            "--resource-group")
    if lowered in REGION_CODES:
        return UserInputError(
            f"unknown region '{call.region}', or it does not offer this to subscription {call.subscription} "
            f"({label}): {message}",
            None, "use a programmatic region name such as westeurope ('az account list-locations -o table')")
    if lowered == "missingsubscriptionregistration":
        return UserInputError(
            f"the subscription is not registered for a resource provider ({label}): {message}", None,
            "register it: az provider register -n Microsoft.MachineLearningServices (and the namespace named above)")
    if status == 429:
        return UserInputError(
            f"Azure kept throttling the requests to {call.action} ({label}); azure-core retried "
            f"{_times(call.max_retries)} with backoff and gave up{corr}: {message}", None,
            "wait a few minutes and run again (ARM limits requests per subscription and principal), "
            "or raise --max-retries")
    if status == 400 and call.verdicts:
        return ArmRejected(f"Azure Resource Manager rejected the template ({label})", error, correlation)
    if status == 404:
        return UserInputError(f"not found while trying to {call.action} ({label}): {message}", None,
                              "check the subscription, resource group and names")
    if status >= 500:
        return UserInputError(
            f"Azure returned a server error while trying to {call.action} ({label}){corr}: {message}", None,
            "try again later; quote the correlation id to Azure support if it persists")
    return UserInputError(f"Azure rejected the request to {call.action} ({label}){corr}: {message}", None,
                          "check the options; run again with AMLFORGE_DEBUG=1 for details")


@contextmanager
def azure_errors(call: Call) -> Iterator[None]:
    """Translate azure-core exceptions raised inside the block (see :func:`translate`)."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except AzureError as e:
        raise translate(e, call) from None


__all__ = ["ArmError", "ArmRejected", "Call", "REGION_CODES", "azure_errors", "response_error", "translate"]
