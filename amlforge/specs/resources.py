"""Kubernetes container ``resources`` (requests and limits) and quantity parsing."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from amlforge._regex import LazyPattern
from amlforge.specs._base import SpecModel


class ResourceSettings(SpecModel):
    """CPU, memory and GPU quantities, as Kubernetes strings (``"500m"``, ``"2Gi"``, ``"1"``)."""

    cpu: str | None = Field(None, description='CPU in cores or millicores, quoted: "1", "500m".')
    memory: str | None = Field(None, description='Memory with a unit, quoted: "1024Mi", "2Gi".')
    gpu: str | None = Field(
        None,
        validation_alias=AliasChoices("nvidia.com/gpu", "gpu"),
        serialization_alias="nvidia.com/gpu",
        description='Whole GPUs, quoted ("1"); limits only.',
    )


class ResourceRequirements(SpecModel):
    """``resources`` of a Kubernetes deployment."""

    requests: ResourceSettings | None = Field(None, description="What the scheduler reserves.")
    limits: ResourceSettings | None = Field(None, description="Hard caps; required for GPUs.")


_QUANTITY = LazyPattern(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-zA-Z]*)\s*\Z")
_FACTORS = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}


def parse_quantity(value: str) -> float | None:
    """A Kubernetes quantity as a number (cores, bytes, GPUs); ``None`` when malformed."""
    m = _QUANTITY.match(value)
    if not m or m.group(2) not in _FACTORS:
        return None
    return float(m.group(1)) * _FACTORS[m.group(2)]


__all__ = ["ResourceRequirements", "ResourceSettings", "parse_quantity"]
