"""The managed deployments of the run need more vCPUs of a VM family than the quota leaves.

## What it does
For every managed deployment, computes the vCPUs it reserves: `ceil(1.2 x instance_count) x
vCPUs` (integer arithmetic: `(6n + 4) // 5`), or `instance_count x vCPUs` for the large GPU
sizes the docs exempt from the 20% reserve. It sums them per VM family across all endpoints of
the run and compares the sum with the family's `limit - usage` from the quota file (`--quota`
or `quota = "..."` in the configuration). Each deployment that contributes to an exceeded
family is reported at its `instance_count`, with the totals. Families the quota file does not
list are not reported here (see AML209 for GPU families).

A missing `instance_count` counts as 1. Quota is per subscription and region: amlforge assumes
every deployment of the run goes to the subscription and region the quota file describes.

## Why is this bad?
The deployment fails with OutOfQuota ("not enough quota ... for the VM family") after
provisioning has started. The 20% reserve surprises: one instance of a 4-vCPU size needs 8
vCPUs of quota, ten need 48.

## Example
```yaml
# quota.yaml: families: {standardDSv2Family: {limit: 40, usage: 0}}
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 10
```
Use instead:
```yaml
# 8 instances reserve (6*8+4)//5 = 10 x 4 = 40 vCPUs
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 8
```

## References
- [VM quota allocation for managed online deployments](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)
- `amlforge quota PATHS --quota FILE` prints the per-family table.
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import count_anchor
from amlforge.policies.capacity._quota import OVER, quota_table
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML208", "vcpu-quota-exceeded", Severity.ERROR, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    table = quota_table(project)
    for row in table.families:
        if row.status != OVER or row.quota is None:
            continue
        shares = ", ".join(f"{u.label} {u.reserved_vcpus}" for u in row.uses)
        total = (f"VM family '{row.family}' needs {row.reserved_vcpus} vCPUs" +
                 (f" ({shares})" if len(row.uses) > 1 else "") +
                 f" but {row.quota.available} are available (limit {row.quota.limit}, usage {row.quota.usage})")
        for use in row.uses:
            yield Violation(
                count_anchor(use.deployment),
                f"{total}; this deployment {use.explain()}",
                f"request {row.shortfall} more vCPUs of '{row.family}' quota, or lower instance_count",
            )
