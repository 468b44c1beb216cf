"""Kubernetes ``resources`` helpers shared by AML313 and AML314 (not a rule)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msgspec import Struct

from amlforge.specs.project import Anchor, Loaded
from amlforge.specs.resources import ResourceSettings, parse_quantity

SECTIONS = ("requests", "limits")
KINDS = ("cpu", "memory", "gpu")


class Quantity(Struct, frozen=True):
    """One quantity of ``resources.<section>.<kind>`` as written and parsed."""

    section: str
    kind: str
    key: str  # the key as spelled in the file
    raw: str
    value: float | None  # None when malformed
    at: Anchor

    @property
    def dotted(self) -> str:
        return f"resources.{self.section}.{self.key}"


def quantities(dep: Loaded[Any]) -> Iterator[Quantity]:
    """Every quantity a Kubernetes deployment's ``resources`` spells out."""
    resources = getattr(dep.spec, "resources", None)
    if resources is None:
        return
    for section in SECTIONS:
        settings: ResourceSettings | None = getattr(resources, section)
        if settings is None:
            continue
        for kind in KINDS:
            raw = getattr(settings, kind)
            if raw is None:
                continue
            key = kind
            if kind == "gpu" and not dep.at("resources", section, "gpu").spelled_out:
                key = "nvidia.com/gpu"
            yield Quantity(section, kind, key, raw, parse_quantity(raw), dep.at("resources", section, key))


def by_place(dep: Loaded[Any]) -> dict[tuple[str, str], Quantity]:
    """Quantities keyed by (section, kind)."""
    return {(q.section, q.kind): q for q in quantities(dep)}


def show(kind: str, value: float) -> str:
    """A parsed quantity for messages: cores, bytes in Mi/Gi, GPUs."""
    if kind == "cpu":
        return f"{value * 1000:g}m CPU" if value < 1 else f"{value:g} CPU"
    if kind == "memory":
        if value >= 2**30:
            return f"{value / 2**30:.3g} GiB"
        if value >= 2**20:
            return f"{value / 2**20:.4g} MiB"
        return f"{value:g} bytes"
    return f"{value:g} GPU"
