"""The managed online endpoint SKU catalog (``amlforge/data/managed_online_skus.json``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from msgspec import Struct


class Sku(Struct, frozen=True):
    """One VM size usable by managed online deployments."""

    name: str
    family: str
    vcpus: int
    memory_gib: float
    disk_gib: float
    gpus: float
    gpu_type: str | None
    gpu_memory_gib: float | None
    skip_upgrade_reserve: bool
    retirement_status: str | None = None
    retirement_date: str | None = None

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0

    def reserved_vcpus(self, instance_count: int) -> int:
        """vCPUs of quota a deployment of ``instance_count`` instances needs.

        ceil(1.2 x n) x vCPUs, computed in integers as (6n + 4) // 5; the SKUs marked
        "skip 20 %" need only n x vCPUs.
        """
        instances = instance_count if self.skip_upgrade_reserve else (6 * instance_count + 4) // 5
        return instances * self.vcpus


class SkuCatalog:
    """Look-ups over the SKU list; names compare case-insensitively, as the service does."""

    def __init__(self, skus: list[Sku]) -> None:
        self.skus = sorted(skus, key=lambda s: (s.gpus > 0, s.vcpus, s.memory_gib, s.name))
        self._by_name = {s.name.lower(): s for s in skus}

    def __iter__(self) -> Iterator[Sku]:
        return iter(self.skus)

    def __len__(self) -> int:
        return len(self.skus)

    def get(self, name: str | None) -> Sku | None:
        return self._by_name.get(name.lower()) if name else None

    def closest(self, name: str, n: int = 3) -> list[str]:
        """The catalog names most like ``name`` (for "did you mean")."""
        lowered = {s.name.lower(): s.name for s in self.skus}
        import difflib  # here: ~1 ms of start-up, used only to suggest or show a diff
        return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]

    def smallest(self, fits: Callable[[Sku], bool], *, gpu: bool | None = None) -> Sku | None:
        """The smallest SKU (by vCPUs, then memory) that ``fits``, skipping retired series."""
        for sku in self.skus:
            if gpu is not None and sku.is_gpu != gpu:
                continue
            if sku.retirement_status == "retired":
                continue
            if fits(sku):
                return sku
        return None


@lru_cache(maxsize=1)
def load_catalog() -> SkuCatalog:
    """The SKU catalog shipped with amlforge (read once)."""
    from amlforge.data import load_json

    rows = load_json("managed_online_skus.json")["skus"]
    skus = []
    for r in rows:
        ret = r.get("retirement") or {}
        skus.append(Sku(r["name"], r["family"], r["vcpus"], r["memory_gib"], r["disk_gib"], r["gpus"],
                        r["gpu_type"], r["gpu_memory_gib"], r["skip_upgrade_reserve"],
                        ret.get("status"), ret.get("date")))
    return SkuCatalog(skus)


__all__ = ["Sku", "SkuCatalog", "load_catalog"]
