"""A VM size (or Kubernetes request) too small for the deployment to start.

## What it does
Reports three documented cases:
- a managed deployment on `Standard_DS1_v2` or `Standard_F2s_v2`, the two sizes the SKU list
  says "may be too small for bigger models";
- an MLflow no-code deployment (an `mlflow_model` without `environment`, whose conda
  dependencies are installed when the container starts) on a managed size with fewer than 4
  vCPUs (the docs call `Standard_F4s_v2` "a good starting SKU size" for it);
- a Kubernetes MLflow no-code deployment whose resource requests are below 2 CPU cores and
  4 GB of memory (an error: the docs say the deployment fails). Without `resources`, the
  requests of `defaultinstancetype` (cpu 100m, memory 2Gi) apply.

## Why is this bad?
The docs say a too-small size leads to container termination for lack of memory or disk, or to
probe failures because the container is slow to start (installing conda packages at start-up
takes minutes on 2 vCPUs); the deployment ends in ResourceNotReady or OutOfQuota.

## Example
```yaml
name: mlflow-blue
endpoint_name: my-endpoint
model:
  path: ./model
  type: mlflow_model
instance_type: Standard_DS2_v2
instance_count: 3
```
Use instead:
```yaml
name: mlflow-blue
endpoint_name: my-endpoint
model:
  path: ./model
  type: mlflow_model
instance_type: Standard_F4s_v2
instance_count: 3
```

## Options
- `mlflow_min_vcpus` (default 4): fewest vCPUs for a managed MLflow no-code deployment, from
  the docs' starting size `Standard_F4s_v2`.

## References
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list) (caution box)
- [Troubleshooting: conda installation issues](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
- [Kubernetes instance types](https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import (
    DEFAULT_INSTANCE_REQUESTS,
    DEFAULT_INSTANCE_TYPE,
    GIB,
    fmt_gib,
    mlflow_no_code,
    number_option,
    sku_of,
    smallest_sku,
    type_anchor,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project

#: The sizes the SKU list's caution box names.
TOO_SMALL = ("standard_ds1_v2", "standard_f2s_v2")
#: Kubernetes MLflow minimum requests (how-to-manage-kubernetes-instance-types.md): 2 cores, 4 GB.
K8S_MLFLOW_CPU = 2.0
K8S_MLFLOW_MEMORY = 4 * 10**9


@rule("AML205", "instance-type-too-small", Severity.WARNING, prevents=("ResourceNotReady", "OutOfQuota"))
def check(project: Project) -> Iterator[Violation]:
    min_vcpus = None
    for dep in project.deployments:
        if getattr(dep.spec, "kind", None) == "kubernetes":
            yield from _kubernetes(project, dep)
            continue
        sku = sku_of(project, dep)
        if sku is None:
            continue
        why = mlflow_no_code(project, dep)
        if why:
            min_vcpus = min_vcpus or number_option(project, "mlflow_min_vcpus", 4, minimum=1, strict=False)
            if sku.vcpus < min_vcpus:
                bigger = smallest_sku(project, lambda s, v=min_vcpus, sku=sku: s.vcpus >= v and s.memory_gib >= sku.memory_gib,
                                      gpu=sku.is_gpu)
                yield Violation(
                    type_anchor(dep),
                    f"{sku.name} has {sku.vcpus} vCPU{'s' if sku.vcpus != 1 else ''} and {fmt_gib(sku.memory_gib)}; "
                    f"this deployment is {why}, so its conda dependencies install when the container starts "
                    f"(the docs suggest at least {min_vcpus:g} vCPUs, e.g. Standard_F4s_v2)",
                    f"use {bigger.name} or larger" if bigger else "use a size with more vCPUs",
                )
                continue
        if sku.name.lower() in TOO_SMALL:
            bigger = smallest_sku(project, lambda s, sku=sku: s.vcpus >= 4 and s.memory_gib > sku.memory_gib, gpu=False)
            yield Violation(
                type_anchor(dep),
                f"{sku.name} ({sku.vcpus} vCPU{'s' if sku.vcpus != 1 else ''}, {fmt_gib(sku.memory_gib)}) is one of "
                "the two sizes the docs say may be too small: containers can be killed for lack of memory or "
                "disk, or fail their probes while starting",
                f"use a larger size such as {bigger.name}" if bigger else "use a larger size",
            )


def _kubernetes(project: Project, dep) -> Iterator[Violation]:
    from amlforge.specs.resources import parse_quantity

    why = mlflow_no_code(project, dep)
    if not why:
        return
    resources = dep.spec.resources
    requests = resources.requests if resources else None
    instance_type = (dep.spec.instance_type or DEFAULT_INSTANCE_TYPE).lower()
    if requests is not None:
        cpu = parse_quantity(requests.cpu) if requests.cpu else None
        memory = parse_quantity(requests.memory) if requests.memory else None
        cpu_at, memory_at = dep.at("resources", "requests", "cpu"), dep.at("resources", "requests", "memory")
        source = "resources.requests"
    elif resources is None and instance_type == DEFAULT_INSTANCE_TYPE:
        cpu, memory = DEFAULT_INSTANCE_REQUESTS["cpu"], DEFAULT_INSTANCE_REQUESTS["memory"]
        cpu_at = memory_at = type_anchor(dep)
        source = f"{DEFAULT_INSTANCE_TYPE}'s requests"
    else:
        return  # a custom instance type: its requests live in the cluster
    short = []
    if cpu is not None and cpu < K8S_MLFLOW_CPU:
        short.append((cpu_at, f"cpu {cpu:g}"))
    if memory is not None and memory < K8S_MLFLOW_MEMORY:
        short.append((memory_at, f"memory {fmt_gib(memory / GIB)}"))
    if not short:
        return
    what = " and ".join(s[1] for s in short)
    yield Violation(
        short[0][0],
        f"this Kubernetes deployment is {why} and requests {what} ({source}); MLflow deployments need "
        "at least 2 CPU cores and 4 GB of memory",
        'request at least cpu: "2" and memory: "4Gi" in resources.requests (and raise the limits to match)',
        severity=Severity.ERROR,
    )
