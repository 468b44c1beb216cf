"""Kubernetes InstanceType objects as plain data: the facts amlforge needs without their models.

Recognising an ``InstanceType`` document and the cluster's default instance type need no pydantic
model; they live here so that a run without instance types does not build the models of
:mod:`amlforge.specs.instance_type` (start-up, issue 14).
"""

from __future__ import annotations

from typing import Any

#: API group and version of the CRD (how-to-manage-kubernetes-instance-types.md).
API_GROUP = "amlarc.azureml.com/"
#: What the cluster uses when a deployment names no instance type: 100m CPU and 2Gi requested
#: (how-to-manage-kubernetes-instance-types.md, 2025-07-23).
DEFAULT_NAME = "defaultinstancetype"
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "2Gi"}


def is_instance_type_document(data: dict[str, Any]) -> bool:
    """An InstanceType or a list of them, by ``apiVersion`` and ``kind``."""
    api, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return False
    if kind == "InstanceType" or kind == "InstanceTypeList":
        return api.startswith(API_GROUP)
    items = data.get("items")
    return kind == "List" and isinstance(items, list) and bool(items) and all(
        isinstance(i, dict) and i.get("kind") == "InstanceType" and str(i.get("apiVersion", "")).startswith(API_GROUP)
        for i in items)


__all__ = ["API_GROUP", "DEFAULT_NAME", "DEFAULT_REQUESTS", "is_instance_type_document"]
