"""Kubernetes InstanceType custom resources (``amlarc.azureml.com/v1alpha1``).

On a Kubernetes online endpoint, ``instance_type`` names an ``InstanceType`` object of the
attached cluster: a node selector and container resources. ``kubectl get instancetypes -o yaml``
prints them as an ``InstanceTypeList`` (or a plain ``List``); a single object is an ``InstanceType``.
amlforge reads them when they are in the run, so that deployments can be checked against them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from amlforge.specs._base import SpecModel
from amlforge.specs.kubernetes import API_GROUP, DEFAULT_NAME, DEFAULT_REQUESTS, is_instance_type_document


def _quantity(value: Any) -> Any:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


Quantity = Annotated[str, BeforeValidator(_quantity)]


class CrdResources(SpecModel):
    """CPU, memory and GPU of an instance type (``nvidia.com/gpu`` may be a number)."""

    cpu: Quantity | None = Field(None, description='CPU, e.g. "700m" or "2".')
    memory: Quantity | None = Field(None, description='Memory, e.g. "1500Mi".')
    gpu: Quantity | None = Field(None, validation_alias=AliasChoices("nvidia.com/gpu", "gpu"),
                                 description="Whole GPUs.")


class CrdRequirements(SpecModel):
    requests: CrdResources | None = Field(None, description="What the scheduler reserves.")
    limits: CrdResources | None = Field(None, description="Hard caps of the container.")


class InstanceTypeBody(SpecModel):
    node_selector: dict[str, str] | None = Field(None, alias="nodeSelector", description="Node labels to match.")
    resources: CrdRequirements | None = Field(None, description="Container requests and limits.")


class Metadata(SpecModel):
    model_config = {**SpecModel.model_config, "extra": "ignore"}

    name: str = Field(min_length=1, description="The instance type's name, used as instance_type.")


class InstanceTypeSpec(SpecModel):
    """One ``InstanceType`` object."""

    model_config = {**SpecModel.model_config, "extra": "ignore"}

    api_version: str = Field(alias="apiVersion", description="amlarc.azureml.com/v1alpha1")
    kind: Literal["InstanceType"] = Field(description="InstanceType")
    metadata: Metadata = Field(description="Object metadata; name is what deployments refer to.")
    spec: InstanceTypeBody = Field(default_factory=InstanceTypeBody, description="Node selector and resources.")

    @property
    def name(self) -> str:
        return self.metadata.name


class InstanceTypeListSpec(SpecModel):
    """``kubectl get instancetypes -o yaml``: an ``InstanceTypeList`` (or ``List``) of objects."""

    model_config = {**SpecModel.model_config, "extra": "ignore"}

    api_version: str = Field(alias="apiVersion", description="amlarc.azureml.com/v1alpha1 or v1")
    kind: Literal["InstanceTypeList", "List"] = Field(description="InstanceTypeList")
    items: list[InstanceTypeSpec] = Field(default_factory=list, description="The instance types.")


__all__ = ["API_GROUP", "DEFAULT_NAME", "DEFAULT_REQUESTS", "InstanceTypeListSpec", "InstanceTypeSpec",
           "is_instance_type_document"]
