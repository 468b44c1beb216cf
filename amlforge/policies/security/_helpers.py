"""Shared code of the security rules (not a rule: the catalog loader skips `_` modules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from amlforge._regex import LazyPattern

if TYPE_CHECKING:
    from amlforge.specs.deployment import OnlineDeploymentBase
    from amlforge.specs.endpoint import OnlineEndpointBase
    from amlforge.specs.project import Loaded, Project

#: Secret injection patterns (how-to-deploy-online-endpoint-with-secret-injection.md).
_CONNECTION = LazyPattern(
    r"^\$\{\{azureml://connections/(?P<name>[^/{}\s]+)(?:/(?:credentials|metadata)/[^/{}\s]+|/target)?\}\}$"
)
_KEYVAULT = LazyPattern(
    r"^\$\{\{keyvault:https://(?P<vault>[A-Za-z0-9-]+)\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net)"
    r"/secrets/(?P<secret>[A-Za-z0-9-]+)/(?P<version>[A-Za-z0-9]+)\}\}$"
)
SECRET_STORE_FLAG = "enforce_access_to_default_secret_stores"


def secret_reference_kind(value: str) -> str | None:
    """``connection`` or ``keyvault`` for a well-formed secret reference, else None."""
    if _CONNECTION.match(value):
        return "connection"
    if _KEYVAULT.match(value):
        return "keyvault"
    return None


def looks_like_reference(value: str) -> bool:
    """Whether the value is meant as a secret injection reference (``${{...}}``)."""
    return value.strip().startswith("${{")


def environment_variables(dep: Loaded[OnlineDeploymentBase]) -> Iterator[tuple[str, Any]]:
    """(name, value as written in the YAML) of a deployment's environment variables."""
    raw = dep.doc.data.get("environment_variables") if isinstance(dep.doc.data, dict) else None
    if not isinstance(raw, dict):
        return
    for name, value in raw.items():
        yield str(name), value


def identity_type(ep: Loaded[OnlineEndpointBase]) -> str:
    """The endpoint's identity type; system_assigned when omitted (the SDK default)."""
    identity = ep.spec.identity
    return identity.type if identity is not None else "system_assigned"


def uses_user_identity(ep: Loaded[OnlineEndpointBase]) -> bool:
    return "user_assigned" in identity_type(ep)


def endpoint_of(project: Project, dep: Loaded[OnlineDeploymentBase]) -> Loaded[OnlineEndpointBase] | None:
    group = project.group_of(dep)
    return group.endpoint if group is not None else None
