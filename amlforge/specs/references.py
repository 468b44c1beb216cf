"""Asset references: ``azureml:name:version``, ``azureml:name@latest``, ARM ids, registries.

az-ml YAML refers to registered models, environments and code either inline (a mapping) or by
a string. Only strings with the ``azureml:`` prefix are references; azure-ai-ml rejects a bare
``name:version``.
"""

from __future__ import annotations

import functools

import re

from msgspec import Struct
from pydantic_core import PydanticCustomError

from amlforge._regex import LazyPattern

_REGISTRY = LazyPattern(
    r"^azureml://registries/(?P<registry>[^/]+)/(?P<kind>models|environments|codes|components)/"
    r"(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+)|/labels/(?P<label>[^/]+))?$"
)
_ARM = LazyPattern(
    r"^azureml:/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)/(?P<kind>models|environments|codes)/"
    r"(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?$",
    re.IGNORECASE,
)
_SHORT = LazyPattern(r"^azureml:(?P<name>[^:@/]+)(?::(?P<version>[^:@/]+)|@(?P<label>[^:@/]+))?\Z")
_COMPUTE = LazyPattern(r"^azureml:(?P<name>[^:@/]+)\Z")


class AssetRef(Struct, frozen=True):
    """A parsed asset reference.

    Attributes:
        form: ``short`` (``azureml:n:v``/``azureml:n@label``), ``arm`` (longhand ARM id) or
            ``registry`` (``azureml://registries/...``).
        name: Asset name.
        version: Explicit version, if any.
        label: Label such as ``latest``, if any.
        registry: Registry name for registry references.
    """

    raw: str
    form: str
    name: str
    version: str | None = None
    label: str | None = None
    registry: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether the reference names one immutable version."""
        return self.version is not None


def parse_asset_ref(value: str) -> AssetRef | None:
    """Parse an az-ml asset reference; ``None`` when ``value`` is not one."""
    if type(value) is str:  # not a subclass (a reader's Unknown): the answer depends on the text alone
        return _parse_text(value)
    return _parse(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> AssetRef | None:
    # rules ask about the same few references many times (18 times a deployment in a bulk lint)
    return _parse(value)


def _parse(value: str) -> AssetRef | None:
    m = _REGISTRY.match(value)
    if m:
        return AssetRef(value, "registry", m["name"], m["version"], m["label"], m["registry"])
    m = _ARM.match(value)
    if m:
        return AssetRef(value, "arm", m["name"], m["version"])
    m = _SHORT.match(value)
    if m:
        return AssetRef(value, "short", m["name"], m["version"], m["label"])
    return None


def check_asset_ref(kind: str):  # noqa: ANN201 - returns a pydantic validator
    """A validator for string references to ``kind`` assets (model, environment, code)."""

    def validate(value: str) -> str:
        if parse_asset_ref(value) is None:
            raise PydanticCustomError(
                "asset_reference",
                "'{value}' is not {article} {kind} reference: registered assets need the azureml: prefix",
                {"value": value, "kind": kind, "article": "an" if kind[0] in "aeiou" else "a"},
            )
        return value

    return validate


def parse_compute_ref(value: str) -> str | None:
    """``azureml:k8s-compute`` -> ``k8s-compute``; ARM ids are returned as given."""
    m = _COMPUTE.match(value)
    if m:
        return m["name"]
    if value.startswith("azureml:/subscriptions/") or value.startswith("/subscriptions/"):
        return value.rsplit("/", 1)[-1]
    return None


__all__ = ["AssetRef", "check_asset_ref", "parse_asset_ref", "parse_compute_ref"]
