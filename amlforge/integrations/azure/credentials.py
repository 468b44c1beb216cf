"""Where ARM is and who we are: the endpoint, its token scope, and the credential.

- Endpoint: ``--arm-endpoint URL``, else ``AMLFORGE_ARM_ENDPOINT``, else the public cloud
  (``https://management.azure.com``). Sovereign clouds pass their own (for example
  ``https://management.chinacloudapi.cn``), and the tests pass the loopback emulator's.
  azure-core refuses to send a bearer token to a URL that is not ``https``, so plain ``http``
  is rejected here with a clear message.
- Scope: the token audience of the endpoint: the table of azure-mgmt-core's
  ``get_arm_endpoints`` for the known clouds, else ``<endpoint>/.default``.
- Credential: ``DefaultAzureCredential`` (environment service principal, workload identity,
  managed identity, Azure CLI, ...). ``AMLFORGE_AZURE_TOKEN`` replaces it with a static bearer
  token: **for tests and CI only** (the emulator checks it; a real token expires within the hour
  and is never refreshed).
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit

from amlforge.errors import UserInputError

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
ENV_ARM_ENDPOINT = "AMLFORGE_ARM_ENDPOINT"
ENV_TOKEN = "AMLFORGE_AZURE_TOKEN"

#: ARM host -> token scope (azure-mgmt-core ``tools.get_arm_endpoints``).
_KNOWN_SCOPES = {
    "management.azure.com": "https://management.azure.com/.default",
    "management.chinacloudapi.cn": "https://management.chinacloudapi.cn/.default",
    "management.usgovcloudapi.net": "https://management.core.usgovcloudapi.net/.default",
}


def arm_endpoint(option: str | None = None) -> str:
    """The ARM base URL without a trailing slash.

    Raises:
        UserInputError: not an ``https://host`` URL.
    """
    value = (option or os.environ.get(ENV_ARM_ENDPOINT) or DEFAULT_ARM_ENDPOINT).strip()
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        where = "--arm-endpoint" if option else ENV_ARM_ENDPOINT
        raise UserInputError(f"{where} must be an https URL such as {DEFAULT_ARM_ENDPOINT}, got '{value}'", None,
                             "bearer tokens are only sent over TLS; use the https address of your cloud's "
                             "Resource Manager")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UserInputError(f"the ARM endpoint is a bare address without a path, got '{value}'", None,
                             f"write it like {DEFAULT_ARM_ENDPOINT}")
    return f"{parts.scheme}://{parts.netloc}"


def credential_scopes(endpoint: str) -> list[str]:
    """The token scope for ``endpoint``."""
    host = (urlsplit(endpoint).hostname or "").lower()
    return [_KNOWN_SCOPES.get(host, endpoint.rstrip("/") + "/.default")]


class StaticTokenCredential:
    """A ``TokenCredential`` that returns one fixed token (``AMLFORGE_AZURE_TOKEN``; tests and CI only)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def close(self) -> None:  # the TokenCredential protocol of azure-core
        pass


def get_credential() -> Any:
    """The credential: the static test token when ``AMLFORGE_AZURE_TOKEN`` is set, else ``DefaultAzureCredential``.

    Raises:
        UserInputError: azure-identity is not installed.
    """
    token = os.environ.get(ENV_TOKEN)
    if token:
        return StaticTokenCredential(token.strip())
    from amlforge.integrations.azure import require

    require("azure.identity")
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


#: Retries of one request: azure-core's default for each kind (throttling, 5xx, connection, read).
DEFAULT_MAX_RETRIES = 3


def transport_options(max_retries: int = DEFAULT_MAX_RETRIES) -> dict[str, Any]:
    """Keyword arguments of every client: azure-core's retry policy with its backoff.

    One request is retried at most ``max_retries`` times, whatever went wrong (throttling, 408 and
    5xx answers, refused or broken connections). azure-core waits the ``Retry-After`` of a 429,
    else backs off exponentially (0.8 s factor, 120 s at most); it does not retry a POST that
    got 500, 503 or 504. The CA bundle comes from ``REQUESTS_CA_BUNDLE`` as for any requests user.
    """
    n = max(0, int(max_retries))
    return {"retry_total": n, "retry_connect": n, "retry_read": n, "retry_status": n}


__all__ = [
    "DEFAULT_ARM_ENDPOINT",
    "DEFAULT_MAX_RETRIES",
    "ENV_ARM_ENDPOINT",
    "ENV_TOKEN",
    "StaticTokenCredential",
    "arm_endpoint",
    "credential_scopes",
    "get_credential",
    "transport_options",
]
