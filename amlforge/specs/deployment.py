"""Online deployments: managed (VM SKUs) or Kubernetes (instance types and resources)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from amlforge.specs._base import SCHEMA_FIELD, ScalarStr, SpecModel, enum_field
from amlforge.specs.code import CodeConfiguration
from amlforge.specs.data_collector import DataCollector
from amlforge.specs.environment import EnvironmentField
from amlforge.specs.model import ModelField
from amlforge.specs.probes import ProbeSettings
from amlforge.specs.request_settings import RequestSettings
from amlforge.specs.resources import ResourceRequirements
from amlforge.specs.scale_settings import DefaultScaleSettings, ScaleSettings

DeploymentType = Annotated[Literal["managed", "kubernetes"], enum_field("managed", "kubernetes")]


class OnlineDeploymentBase(SpecModel):
    """Fields common to managed and Kubernetes online deployments."""

    schema_: str | None = SCHEMA_FIELD
    name: str | None = Field(None, description="3-32 chars, a letter first; may be given at deploy time (--name).")
    endpoint_name: str | None = Field(None, description="Endpoint this deployment belongs to.")
    description: str | None = Field(None, description="Free text.")
    tags: dict[str, ScalarStr] | None = Field(None, description="Resource tags.")
    properties: dict[str, ScalarStr] | None = Field(None, description="Resource properties.")
    model: ModelField | None = Field(None, description="azureml: reference or inline model; optional for BYOC.")
    model_mount_path: str | None = Field(None, description="Absolute path the model is mounted at (custom containers).")
    code_configuration: CodeConfiguration | None = Field(None, description="Scoring code; optional for MLflow no-code.")
    environment: EnvironmentField | None = Field(None, description="azureml: reference or inline environment.")
    environment_variables: dict[str, ScalarStr] | None = Field(
        None, description="Set in the container; WORKER_COUNT should match max_concurrent_requests_per_instance."
    )
    instance_count: int | None = Field(None, description="Instances (1-50; at least 3 for production).")
    app_insights_enabled: bool = Field(False, description="Send logs and metrics to Application Insights.")
    scale_settings: ScaleSettings | None = Field(None, description="Scaling; managed endpoints accept only default.")
    request_settings: RequestSettings | None = Field(None, description="Per-request limits.")
    liveness_probe: ProbeSettings | None = Field(None, description="Restarts a container that stops answering.")
    readiness_probe: ProbeSettings | None = Field(None, description="Routes traffic only to ready containers.")
    startup_probe: ProbeSettings | None = Field(
        None, description="Holds liveness and readiness off until the container has started (ARM/Bicep api-version "
        "2025-12-01 or later; az-ml YAML of azure-ai-ml 1.35 has no such key).")
    data_collector: DataCollector | None = Field(None, description="Model data collection.")
    id: str | None = Field(None, description="Read back from Azure.")
    provisioning_state: str | None = Field(None, description="Read back from Azure.")

    @property
    def requests(self) -> RequestSettings:
        """The request settings in force (defaults when omitted)."""
        return self.request_settings or RequestSettings()

    @property
    def liveness(self) -> ProbeSettings:
        """The liveness probe in force (defaults when omitted)."""
        return self.liveness_probe or ProbeSettings()

    @property
    def readiness(self) -> ProbeSettings:
        """The readiness probe in force (defaults when omitted)."""
        return self.readiness_probe or ProbeSettings()


class ManagedOnlineDeployment(OnlineDeploymentBase):
    """A deployment on a managed online endpoint (``managedOnlineDeployment.schema.json``)."""

    type: Annotated[Literal["managed"], enum_field("managed")] = Field("managed", description="Deployment kind.")
    instance_type: str = Field(description="VM SKU, e.g. Standard_DS3_v2 (create-only).")
    egress_public_network_access: Annotated[Literal["enabled", "disabled"], enum_field("enabled", "disabled")] = Field(
        "enabled", description="Legacy network isolation; prefer a workspace managed VNet."
    )
    private_network_connection: bool | None = Field(None, description="Experimental private connection flag.")
    scale_settings: DefaultScaleSettings | None = Field(
        None, description="Managed endpoints accept only type: default (autoscale is an Azure Monitor resource)."
    )

    @property
    def kind(self) -> str:
        return "managed"


class KubernetesOnlineDeployment(OnlineDeploymentBase):
    """A deployment on a Kubernetes online endpoint (``kubernetesOnlineDeployment.schema.json``)."""

    type: Annotated[Literal["kubernetes"], enum_field("kubernetes")] = Field(
        "kubernetes", description="Deployment kind."
    )
    instance_type: str | None = Field(None, description="InstanceType custom resource; defaultinstancetype if omitted.")
    resources: ResourceRequirements | None = Field(None, description="Container requests and limits.")

    @property
    def kind(self) -> str:
        return "kubernetes"


OnlineDeployment = ManagedOnlineDeployment | KubernetesOnlineDeployment

__all__ = [
    "DeploymentType",
    "KubernetesOnlineDeployment",
    "ManagedOnlineDeployment",
    "OnlineDeployment",
    "OnlineDeploymentBase",
]
