"""A GPU deployment whose VM family has no quota figures: GPU quota starts at 0 vCPUs.

## What it does
For managed deployments on GPU sizes, reports the VM families that the quota file does not
list (or all of them when no quota file is given), with the vCPUs the run reserves in each
(`ceil(1.2 x instance_count) x vCPUs`, or `instance_count x vCPUs` for the sizes exempt from
the 20% reserve). When the quota file lists the family, AML208 compares the figures instead.
CPU families without figures are not reported: their default quota is not documented.

## Why is this bad?
The docs say specialized VM families such as NCasT4_v3, NC_A100_v4 or NDv2 "start with a
default of zero cores". Until a quota increase is granted, every deployment on them fails with
OutOfQuota, and increases for GPU families can take days.

## Example
```yaml
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC4as_T4_v3
instance_count: 1
```
Use instead:
```yaml
# amlforge lint --quota quota.yaml, where quota.yaml lists the granted quota:
#   families: {standard NCASv3_T4 Family: {limit: 16, usage: 0}}
name: gpu-blue
endpoint_name: my-endpoint
instance_type: Standard_NC4as_T4_v3
instance_count: 1
```

## References
- [Manage quotas: VM family quota](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import count_anchor
from amlforge.policies.capacity._quota import GPU_DEFAULT_ZERO, quota_table
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML209", "gpu-quota-not-raised", Severity.WARNING, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    table = quota_table(project)
    given = project.quota is not None and project.quota.source != "documented defaults"
    for row in table.families:
        if row.status != GPU_DEFAULT_ZERO:
            continue
        where = "the quota file does not list it" if given else "no quota file was given"
        for use in row.uses:
            total = f"; the run reserves {row.reserved_vcpus} there in all" if len(row.uses) > 1 else ""
            yield Violation(
                count_anchor(use.deployment),
                f"{use.sku.name} is in the GPU family '{row.family}', whose quota is 0 vCPUs unless raised "
                f"({where}); this deployment {use.explain()}{total}",
                f"request at least {row.reserved_vcpus} vCPUs of '{row.family}' quota, then pass the figures "
                "with --quota FILE",
            )
