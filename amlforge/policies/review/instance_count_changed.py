"""A change of `instance_count` on an existing deployment.

## What it does
In `amlforge review`, reports a deployment (same endpoint, same name) whose `instance_count`
differs from the base: a warning when it falls (capacity drops as soon as the update applies),
information when it rises (the update needs quota for the new instances before it can finish).

## Why is this bad?
Scaling is applied in place to the deployment that serves traffic. Fewer instances means fewer
concurrent requests before HTTP 429 (at most `2 x max_concurrent_requests_per_instance x
instance_count` are admitted) and less redundancy during upgrades; more instances reserve
`ceil(1.2 x n) x vCPUs` of the VM family's quota, and the update fails with OutOfQuota when the
quota is not there.

## Example
```yaml
# blue.yml at the base
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 6
```
```yaml
# blue.yml under review
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 2
```
Use instead:
```yaml
# scale in steps that the traffic data supports, and say why in the pull request
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 4
```

## References
- how-to-manage-quotas.md (quota `ceil(1.2 x instance_count) x vCPUs`), how-to-manage-quotas.md (429 concurrency cap)
- reference-yaml-deployment-managed-online.md (`instance_count` is updatable)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of, pairs
from amlforge.specs.project import Project


@rule("AML804", "instance-count-changed", Severity.WARNING, prevents=("HTTP 429", "OutOfQuota"))
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    for before, after in pairs(context, project):
        a, b = before.spec.instance_count, after.spec.instance_count
        if a is None or b is None or a == b:
            continue
        name = after.spec.name
        anchor = after.at("instance_count")
        if b < a:
            yield Violation(anchor,
                            f"instance_count of deployment '{name}' falls from {a} to {b}: {a - b} of {a} instances "
                            "stop serving as soon as the update applies",
                            "check the request rate and latency the remaining instances must carry, or scale in smaller "
                            "steps")
            continue
        sku = project.skus.get(after.spec.instance_type) if getattr(after.spec, "kind", "") == "managed" else None
        extra = ""
        if sku is not None:
            extra = (f" ({sku.reserved_vcpus(b) - sku.reserved_vcpus(a)} more vCPUs of {sku.family} quota with the "
                     "20% upgrade reserve)")
        yield Violation(anchor,
                        f"instance_count of deployment '{name}' rises from {a} to {b}; the update needs quota for "
                        f"{b - a} more instances{extra}",
                        "check the VM family's quota first (amlforge quota), or the update fails with OutOfQuota",
                        severity=Severity.INFO)
