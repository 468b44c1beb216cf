"""``data_collector``: model data collection for a deployment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from amlforge.specs._base import SpecModel, enum_field
from amlforge.specs.model import asset_union


class CollectedData(SpecModel):
    """Where one collection lands."""

    name: str | None = Field(None, description="Data asset name; default <endpoint>-<deployment>-<collection>.")
    path: str | None = Field(None, description="azureml://datastores/... path.")
    version: str | None = Field(None, description="Data asset version (a string: azure-ai-ml rejects a number).")
    data_id: str | None = Field(None, description="Id of an existing data asset.")


class Collection(SpecModel):
    """One named collection (``request``/``response`` are the HTTP payloads)."""

    enabled: bool = Field(False, description="Whether this collection is on.")
    data: asset_union(CollectedData, str, "data") | None = Field(  # type: ignore[valid-type]
        None, description="Target data asset: a reference string or a mapping.")
    client_id: str | None = Field(None, description="Client id of the identity that writes the data.")


class RequestLogging(SpecModel):
    """Request logging options."""

    capture_headers: list[str] | None = Field(None, description="HTTP headers to log.")


class DataCollector(SpecModel):
    """Collect inputs and outputs of the model."""

    collections: dict[str, Collection] = Field(default_factory=dict, description="Collections by name.")
    rolling_rate: Annotated[
        Literal["minute", "hour", "day", "month", "year"],
        enum_field("minute", "hour", "day", "month", "year"),
    ] = Field("hour", description="How often a new file starts.")
    sampling_rate: float = Field(1.0, description="Fraction of requests collected (0-1).")
    request_logging: RequestLogging | None = Field(None, description="Request logging options.")


__all__ = ["Collection", "CollectedData", "DataCollector", "RequestLogging"]
