"""Online endpoints: managed, or Kubernetes (an endpoint with ``compute``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from amlforge.specs._base import SCHEMA_FIELD, ScalarStr, SpecModel, enum_field
from amlforge.specs.identity import IdentityConfiguration

AuthMode = Annotated[
    Literal["key", "aml_token", "aad_token"], enum_field("key", "aml_token", "aad_token")
]


class OnlineEndpointBase(SpecModel):
    """Fields common to managed and Kubernetes online endpoints."""

    schema_: str | None = SCHEMA_FIELD
    name: str | None = Field(
        None, description="3-32 chars, a letter first, letters/digits/dashes; unique in the region (managed)."
    )
    description: str | None = Field(None, description="Free text.")
    tags: dict[str, ScalarStr] | None = Field(None, description="Resource tags.")
    properties: dict[str, ScalarStr] | None = Field(None, description="Resource properties.")
    auth_mode: AuthMode = Field("key", description="key (default), aml_token or aad_token (managed only).")
    identity: IdentityConfiguration | None = Field(None, description="Managed identity; system-assigned by default.")
    traffic: dict[str, int] | None = Field(None, description="Deployment name -> percent; sums to 0 or 100.")
    mirror_traffic: dict[str, int] | None = Field(
        None, description="One deployment -> percent (at most 50) of live traffic copied to it; managed only."
    )
    id: str | None = Field(None, description="Read back from Azure.")
    location: str | None = Field(None, description="Azure region; the workspace region is used.")
    provisioning_state: str | None = Field(None, description="Read back from Azure.")
    scoring_uri: str | None = Field(None, description="Read back from Azure.")
    openapi_uri: str | None = Field(None, description="Read back from Azure.")


class ManagedOnlineEndpoint(OnlineEndpointBase):
    """A managed online endpoint (``managedOnlineEndpoint.schema.json``)."""

    public_network_access: Annotated[Literal["enabled", "disabled"], enum_field("enabled", "disabled")] = Field(
        "enabled", description="disabled: inbound only through the workspace private endpoint."
    )

    @property
    def kind(self) -> str:
        return "managed"


class KubernetesOnlineEndpoint(OnlineEndpointBase):
    """A Kubernetes online endpoint (``kubernetesOnlineEndpoint.schema.json``)."""

    compute: str = Field(description="azureml:<kubernetes compute name> attached to the workspace.")

    @property
    def kind(self) -> str:
        return "kubernetes"


OnlineEndpoint = ManagedOnlineEndpoint | KubernetesOnlineEndpoint

__all__ = ["AuthMode", "KubernetesOnlineEndpoint", "ManagedOnlineEndpoint", "OnlineEndpoint", "OnlineEndpointBase"]
