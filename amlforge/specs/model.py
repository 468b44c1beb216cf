"""Models: a registered reference or an inline (anonymous) model with a local path."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, Tag

from amlforge.specs._base import SCHEMA_FIELD, ScalarStr, SpecModel, enum_field
from amlforge.specs.references import check_asset_ref

ModelType = Annotated[
    Literal["custom_model", "mlflow_model", "triton_model"],
    enum_field("custom_model", "mlflow_model", "triton_model"),
]


def _tag_as_sent(value: Any) -> Any:
    """azure-ai-ml sends a model tag whose value is a mapping or a list as its ``str()``
    (``Model._to_rest_object``), so the CLI accepts it."""
    return str(value) if isinstance(value, (dict, list)) else value


ModelTagValue = Annotated[ScalarStr, BeforeValidator(_tag_as_sent)]


class ModelSpec(SpecModel):
    """A model asset, inline in a deployment or in its own YAML file (``model.schema.json``)."""

    schema_: str | None = SCHEMA_FIELD
    name: str | None = Field(None, description="Asset name; letters, digits, '-' and '_', up to 255.")
    version: str | int | float | None = Field(None, description="Asset version (kept as text).")
    type: ModelType = Field("custom_model", description="custom_model, mlflow_model or triton_model.")
    path: str | None = Field(None, description="Local file or folder (relative to the YAML), or a datastore URI.")
    description: str | None = Field(None, description="Free text.")
    tags: dict[str, ModelTagValue] | None = Field(None, description="Asset tags (a mapping value is sent as its text).")
    properties: dict[str, ScalarStr] | None = Field(None, description="Asset properties.")
    stage: str | None = Field(None, description="Lifecycle stage label.")
    flavors: dict[str, Any] | None = Field(None, description="MLflow flavors (read from MLmodel).")
    datastore: str | None = Field(None, description="Datastore to upload the local path to.")
    system_metadata: dict[str, Any] | None = Field(None, description="Service metadata.")
    id: str | None = Field(None, description="Read back from Azure.")


ModelRef = Annotated[str, AfterValidator(check_asset_ref("model"))]


def _str_or_mapping(value: Any) -> str | None:
    if isinstance(value, str):
        return "§ref"
    if isinstance(value, (dict, SpecModel)):
        return "§inline"
    return None


def asset_union(inline: type, ref: Any, what: str) -> Any:
    """A field type that is either a string reference or an inline mapping, with clean errors."""
    return Annotated[
        Union[Annotated[ref, Tag("§ref")], Annotated[inline, Tag("§inline")]],
        Discriminator(
            _str_or_mapping,
            custom_error_type="string_or_mapping",
            custom_error_message=f"{what} must be a reference string (azureml:...) or a mapping",
        ),
    ]


ModelField = asset_union(ModelSpec, ModelRef, "model")

__all__ = ["ModelField", "ModelRef", "ModelSpec", "ModelType", "asset_union"]
