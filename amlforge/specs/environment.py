"""Environments: a base image (+ conda file) or a Docker build context, and BYOC routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from amlforge.specs._base import SCHEMA_FIELD, ScalarStr, SpecModel, enum_field
from amlforge.specs.model import asset_union
from amlforge.specs.references import check_asset_ref


class BuildContext(SpecModel):
    """A Docker build context the service builds the image from."""

    path: str = Field(description="Local directory (relative to the YAML) or HTTP URL of the build context.")
    dockerfile_path: str = Field("Dockerfile", description="Dockerfile, relative to path.")


class Route(SpecModel):
    """A port and path inside a custom container."""

    port: int = Field(description="Container port.")
    path: str = Field(description="HTTP path.")


class InferenceConfig(SpecModel):
    """Routes of a custom (BYOC) container; all three are required together."""

    liveness_route: Route = Field(description="Route the liveness probe calls.")
    readiness_route: Route = Field(description="Route the readiness probe calls.")
    scoring_route: Route = Field(description="Route that serves scoring requests.")


class EnvironmentSpec(SpecModel):
    """An environment, inline in a deployment or in its own YAML file (``environment.schema.json``).

    Exactly one of ``image`` or ``build``; ``conda_file`` needs ``image``.
    """

    schema_: str | None = SCHEMA_FIELD
    name: str | None = Field(None, description="Asset name; must not start with 'AzureML'.")
    version: str | int | float | None = Field(None, description="Asset version; auto-generated when omitted.")
    description: str | None = Field(None, description="Free text.")
    tags: dict[str, ScalarStr] | None = Field(None, description="Asset tags.")
    properties: dict[str, ScalarStr] | None = Field(None, description="Asset properties.")
    image: str | None = Field(None, description="Base Docker image, pinned by tag or digest.")
    conda_file: str | dict[str, Any] | None = Field(
        None, description="Conda environment file (path relative to the YAML) or inline mapping; needs image."
    )
    build: BuildContext | None = Field(None, description="Docker build context instead of image.")
    os_type: Annotated[Literal["linux", "windows"], enum_field("linux", "windows")] = Field(
        "linux", description="Operating system of the image."
    )
    inference_config: InferenceConfig | None = Field(None, description="Routes for custom containers.")
    datastore: str | None = Field(None, description="Datastore to upload the build context to.")
    id: str | None = Field(None, description="Read back from Azure.")

    @model_validator(mode="after")
    def _image_xor_build(self) -> EnvironmentSpec:
        if self.image is None and self.build is None:
            raise PydanticCustomError(
                "environment_source", "an environment needs a Docker image or a build context: give image or build"
            )
        if self.image is not None and self.build is not None:
            raise PydanticCustomError("environment_source", "give either image or build, not both", {"field": "build"})
        if self.conda_file is not None and self.image is None:
            raise PydanticCustomError(
                "environment_source", "conda_file needs image: the conda environment is built on top of it",
                {"field": "conda_file"},
            )
        return self


EnvironmentRef = Annotated[str, AfterValidator(check_asset_ref("environment"))]
EnvironmentField = asset_union(EnvironmentSpec, EnvironmentRef, "environment")

__all__ = ["BuildContext", "EnvironmentField", "EnvironmentRef", "EnvironmentSpec", "InferenceConfig", "Route"]
