"""The model, loaded once per inference-server worker, may not fit in the instance's memory.

## What it does
For deployments whose model size is known (a local model file or folder, or the `model_sizes`
option for registered models), estimates the memory the loaded model needs:
`model size x memory_factor x workers`, where workers is `WORKER_COUNT` (default 1: the
inference server forks one process per worker and each runs `init()`, so each holds its own
copy). The estimate is compared with the VM memory of a managed deployment, or with
`resources.limits.memory` of a Kubernetes deployment (2Gi for `defaultinstancetype` when no
`resources` are given). Reports the figures and the smallest size that fits.

This is a heuristic. `memory_factor` defaults to 2: deserialising a model (pickle, joblib,
`torch.load`) holds the bytes read and the objects built at the same time, and Python, the
framework and the server need memory too. Compressed model files (joblib with compression,
archives) expand more: raise the factor for them.

## Why is this bad?
The container is killed for lack of memory while loading the model: OutOfQuota (memory) on
managed endpoints, PodOutOfMemory or a crash loop on Kubernetes.

## Example
```yaml
# model_sizes = {"azureml:llm:3" = "12Gi"} in [tool.amlforge.options]
name: blue
endpoint_name: my-endpoint
model: azureml:llm:3
instance_type: Standard_DS3_v2      # 14 GiB of memory
instance_count: 3
environment_variables:
  WORKER_COUNT: "2"
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
model: azureml:llm:3
instance_type: Standard_E8s_v3      # 64 GiB of memory
instance_count: 3
environment_variables:
  WORKER_COUNT: "2"
```

## Options
- `memory_factor` (default 2.0): memory needed per byte of model file.
- `model_sizes` (table): sizes of registered models, as for AML212.

## References
- [Troubleshooting: OutOfQuota, memory quota](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
- [Inference server: WORKER_COUNT](https://learn.microsoft.com/azure/machine-learning/how-to-inference-server-http)
"""

import math
from collections.abc import Iterator

from amlforge.policies.capacity._helpers import (
    DEFAULT_INSTANCE_LIMITS,
    DEFAULT_INSTANCE_TYPE,
    GIB,
    fmt_gib,
    keeps_hardware,
    number_option,
    sku_of,
    smallest_sku,
    type_anchor,
    worker_count,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML213", "model-exceeds-memory", Severity.WARNING, prevents=("OutOfQuota", "PodOutOfMemory"))
def check(project: Project) -> Iterator[Violation]:
    factor = None
    for dep in project.deployments:
        kubernetes = getattr(dep.spec, "kind", None) == "kubernetes"
        sku = None if kubernetes else sku_of(project, dep)
        if sku is None and not kubernetes:
            continue
        size = project.model_size(dep)
        if size is None:
            continue
        factor = factor or number_option(project, "memory_factor", 2.0)
        workers, worker_source = worker_count(dep)
        model_gib = size[0] / GIB
        need = model_gib * factor * workers
        estimate = (f"loading the model needs about {fmt_gib(need)} of memory: {fmt_gib(model_gib)} ({size[1]}) "
                    f"x memory_factor {factor:g} x {worker_source},")
        worker_hint = ", or lower WORKER_COUNT" if workers > 1 else ""
        if sku is not None:
            if need <= sku.memory_gib:
                continue
            same = keeps_hardware(sku)
            bigger = smallest_sku(project, lambda s, n=need, same=same: s.memory_gib >= n and same(s), gpu=sku.is_gpu)
            yield Violation(
                type_anchor(dep),
                f"{estimate} but {sku.name} has {fmt_gib(sku.memory_gib)}",
                (f"use {bigger.name} ({fmt_gib(bigger.memory_gib)}) or larger" if bigger else
                 "no managed size has that much memory: shrink the model or use fewer workers") + worker_hint,
            )
            continue
        limit = _kubernetes_limit(dep)
        if limit is None or need <= limit[0] / GIB:
            continue
        yield Violation(
            limit[1],
            f"{estimate} but the container's memory limit is {fmt_gib(limit[0] / GIB)} ({limit[2]})",
            f'set resources.limits.memory to at least "{math.ceil(need)}Gi" (and use an instance type that '
            f"allows it){worker_hint}",
        )


def _kubernetes_limit(dep):
    """(bytes, anchor, source) of a Kubernetes deployment's memory limit, when known."""
    from amlforge.specs.resources import parse_quantity

    resources = dep.spec.resources
    if resources is not None and resources.limits is not None and resources.limits.memory:
        value = parse_quantity(resources.limits.memory)
        if value:
            return value, dep.at("resources", "limits", "memory"), "resources.limits.memory"
        return None
    if resources is None and (dep.spec.instance_type or DEFAULT_INSTANCE_TYPE).lower() == DEFAULT_INSTANCE_TYPE:
        return DEFAULT_INSTANCE_LIMITS["memory"], type_anchor(dep), f"the {DEFAULT_INSTANCE_TYPE} limit"
    return None
