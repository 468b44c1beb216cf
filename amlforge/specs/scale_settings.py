"""``scale_settings``: ``default`` (fixed instance_count) or Kubernetes ``target_utilization``."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag

from amlforge.specs._base import SpecModel, camel_to_snake, enum_field


class DefaultScaleSettings(SpecModel):
    """A fixed number of instances (``instance_count``). The only kind managed endpoints accept."""

    type: Annotated[Literal["default"], enum_field("default")] = Field("default", description="Scale type.")


class TargetUtilizationScaleSettings(SpecModel):
    """Kubernetes autoscaling on utilisation; quota is reserved for max_instances."""

    type: Annotated[Literal["target_utilization"], enum_field("target_utilization")] = Field(
        "target_utilization", description="Scale type."
    )
    min_instances: int = Field(1, description="Fewest instances.")
    max_instances: int = Field(1, description="Most instances; quota is reserved for these.")
    target_utilization_percentage: int = Field(70, description="Utilisation the autoscaler aims at.")
    polling_interval: int = Field(1, description="Seconds between utilisation checks.")


def _scale_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type", "default")
        return camel_to_snake(kind) if isinstance(kind, str) else None
    if isinstance(value, (DefaultScaleSettings, TargetUtilizationScaleSettings)):
        return value.type
    return None


ScaleSettings = Annotated[
    Union[
        Annotated[DefaultScaleSettings, Tag("default")],
        Annotated[TargetUtilizationScaleSettings, Tag("target_utilization")],
    ],
    Discriminator(
        _scale_tag,
        custom_error_type="invalid_scale_type",
        custom_error_message="scale_settings.type must be 'default' or 'target_utilization'",
    ),
]

__all__ = ["DefaultScaleSettings", "ScaleSettings", "TargetUtilizationScaleSettings"]
