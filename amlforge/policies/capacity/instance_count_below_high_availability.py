"""A production deployment with fewer than 3 instances (no high availability).

## What it does
In the `prod` profile, reports managed deployments whose `instance_count` is 1 or 2. The
deployment YAML reference says "at least `3`" instances for high availability, and the SKU list
recommends more than 3 in production; amlforge uses 3 as the floor.

## Why is this bad?
With one or two instances, an OS upgrade, a VM recovery or a crashing container takes most or
all of the capacity away: requests fail or queue (HTTP 429/5xx) while the instance is replaced.
The deployment itself succeeds, so nothing warns you before an incident.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 1
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 3
```

## Options
- `min_production_instances` (default 3): the floor for the `prod` profile.

## References
- [Managed online deployment YAML: instance_count](https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online)
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import count_anchor, is_managed, number_option
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML207", "instance-count-below-high-availability", Severity.WARNING, prevents=("HTTP 429",),
      profiles=("prod",))
def check(project: Project) -> Iterator[Violation]:
    floor = None
    for dep in project.deployments:
        if not is_managed(dep):
            continue
        count = dep.spec.instance_count
        if count is None or count < 1:
            continue  # missing or out of range: other rules
        floor = floor or int(number_option(project, "min_production_instances", 3, minimum=1, strict=False))
        if count < floor:
            yield Violation(count_anchor(dep),
                            f"instance_count is {count}; production deployments need at least {floor} for high "
                            "availability",
                            f"set instance_count to {floor} or more")
