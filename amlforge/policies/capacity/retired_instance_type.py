"""A managed deployment uses a VM series that is retired, or whose retirement is announced.

## What it does
Reads the retirement status of the deployment's VM series from the SKU catalog: a retired
series (NCv2 on 2023-08-31, NCv3 on 2025-09-30) is an error; a series with an announced
retirement date (DSv2 on 2028-05-01, Fsv2 and Lsv2 on 2028-11-15) is reported as info, with the
date and a current series of at least the same size. Once an announced date has passed, the
series is reported as retired.

## Why is this bad?
Retired sizes can no longer be allocated, so a new deployment or a scale-out fails; the managed
SKU list still shows NCv2 and NCv3. Which error the service returns for a retired size is not
documented (BadArgument or a capacity error). Deployments on a retiring series keep working
until the date, but must be re-created on another size before it: `instance_type` cannot be
changed in place.

## Example
```yaml
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC6s_v3
instance_count: 1
```
Use instead:
```yaml
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC8as_T4_v3
instance_count: 1
```

## Options
- `retirement_as_of` (ISO date, default: today): the date retirement dates are compared with (shared
  by every rule that judges a lifecycle date).

## References
- [Retired Azure VM sizes](https://learn.microsoft.com/azure/virtual-machines/sizes/retirement/retired-sizes-list)
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

import datetime
from collections.abc import Iterator

from amlforge.policies.capacity._helpers import (
    managed_with_sku,
    smallest_sku,
    type_anchor,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project
from amlforge.specs.sku import Sku


def _replacement(project: Project, sku: Sku) -> Sku | None:
    if sku.is_gpu:
        return smallest_sku(project, lambda s: s.gpus >= sku.gpus and s.vcpus >= sku.vcpus
                            and (s.gpu_memory_gib or 0) >= (sku.gpu_memory_gib or 0), gpu=True)
    return smallest_sku(project, lambda s: s.vcpus >= sku.vcpus and s.memory_gib >= sku.memory_gib, gpu=False)


@rule("AML202", "retired-instance-type", Severity.ERROR, prevents=("BadArgument", "OutOfCapacity"))
def check(project: Project) -> Iterator[Violation]:

    for dep, sku in managed_with_sku(project):
        if sku.retirement_status is None:
            continue
        as_of = project.today
        date = datetime.date.fromisoformat(sku.retirement_date) if sku.retirement_date else None
        retired = sku.retirement_status == "retired" or (date is not None and date <= as_of)
        other = _replacement(project, sku)
        series = sku.family
        if retired:
            yield Violation(
                type_anchor(dep),
                f"{sku.name} belongs to a retired VM family ({series}, retired on {sku.retirement_date})",
                f"deploy on a current size such as {other.name}" if other else "deploy on a current VM size",
            )
        else:
            yield Violation(
                type_anchor(dep),
                f"{sku.name} belongs to a VM family whose retirement is announced for {sku.retirement_date} "
                f"({series})",
                (f"plan a new deployment on a current size such as {other.name} before {sku.retirement_date}"
                 if other else f"plan a new deployment on a current size before {sku.retirement_date}"),
                severity=Severity.INFO,
            )
