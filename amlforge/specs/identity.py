"""Endpoint ``identity``: system- or user-assigned managed identity."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from amlforge.specs._base import SpecModel, enum_field


class UserAssignedIdentity(SpecModel):
    """One user-assigned identity (azure-ai-ml accepts at most one)."""

    resource_id: str | None = Field(None, description="ARM id of the identity.")
    client_id: str | None = Field(None, description="Client id (read back from Azure).")
    principal_id: str | None = Field(None, description="Principal id (read back from Azure).")
    object_id: str | None = Field(None, description="Object id (read back from Azure).")


class IdentityConfiguration(SpecModel):
    """Managed identity of an endpoint; system_assigned when omitted."""

    type: Annotated[
        Literal["system_assigned", "user_assigned", "none", "system_assigned,user_assigned"],
        enum_field("system_assigned", "user_assigned", "none"),
    ] = Field("system_assigned", description="Identity type.")
    user_assigned_identities: list[UserAssignedIdentity] | None = Field(
        None, description="User-assigned identities (at most one); needs AcrPull and Storage Blob Data Reader."
    )
    principal_id: str | None = Field(None, description="Read back from Azure.")
    tenant_id: str | None = Field(None, description="Read back from Azure.")


__all__ = ["IdentityConfiguration", "UserAssignedIdentity"]
