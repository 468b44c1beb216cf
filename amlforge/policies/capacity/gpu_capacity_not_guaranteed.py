"""A GPU VM size: regional capacity for it is not guaranteed and cannot be checked offline.

## What it does
Reports, as information, every managed deployment on a GPU size, and names a fallback size of
another VM family with at least as many GPUs and as much GPU memory, so that a fallback plan
exists before the deployment is needed.

## Why is this bad?
Quota is not capacity: even with enough quota, a region may have no free VMs of a GPU size
(OutOfQuota "region-wide VM capacity", called OutOfCapacity in older docs). Capacity changes
minute by minute, so no static check can predict it; large GPU sizes are the usual victims.

## Example
```yaml
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC24ads_A100_v4
instance_count: 1
```
Use instead:
```yaml
# the same once a fallback is planned, with the finding suppressed on its line
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC24ads_A100_v4  # amlforge: ignore[AML214] fallback: westus3
instance_count: 1
```

## References
- [Troubleshooting: OutOfQuota, region-wide VM capacity](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import managed_with_sku, type_anchor
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project
from amlforge.specs.sku import Sku


@rule("AML214", "gpu-capacity-not-guaranteed", Severity.INFO, prevents=("OutOfCapacity",))
def check(project: Project) -> Iterator[Violation]:
    for dep, sku in managed_with_sku(project):
        if not sku.is_gpu:
            continue
        other = _fallback(project, sku)
        yield Violation(
            type_anchor(dep),
            f"{sku.name} is a GPU size ({sku.gpu_type}); regional capacity for it can run out even with quota",
            "plan a fallback region" + (f" or a fallback size such as {other.name}" if other else ""),
        )


def _fallback(project: Project, sku: Sku) -> Sku | None:
    """A GPU size of another family with at least as many GPUs and as much GPU memory, the closest first."""
    need = sku.gpus * (sku.gpu_memory_gib or 0)
    candidates = [s for s in project.skus if s.is_gpu and s.family != sku.family and s.retirement_status is None
                  and s.gpus >= min(sku.gpus, 1) and s.gpus * (s.gpu_memory_gib or 0) >= need]
    candidates.sort(key=lambda s: (s.gpus * (s.gpu_memory_gib or 0), s.vcpus, s.memory_gib, s.name))
    return candidates[0] if candidates else None
