"""A change that raises quota use past a threshold.

## What it does
In `amlforge review`, computes the quota the configuration needs at the base and under review
(the same computation as `amlforge quota`: per VM family `ceil(1.2 x instance_count) x vCPUs`,
plus endpoints, deployments and the regional total compute) against the quota figures (`quota`
in the configuration, or `--quota FILE`). It reports each figure whose use, counting what is
already used outside the run, rises and ends at or above `quota_threshold` percent of the limit
(default 80). VM families without figures are not checked (the capacity rules report those).

## Why is this bad?
Quota is shared by every deployment of the subscription and region, and an update or a new
deployment that does not fit fails with OutOfQuota after the image build, 10-20 minutes in. A
change that takes a family to 90 % also leaves no room for the next rollout, which needs both
the old and the new deployment running side by side.

## Example
```yaml
# blue.yml under review: 3 -> 8 instances of a 4-vCPU SKU, with 48 vCPUs of quota
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 8
```
Use instead:
```yaml
# request more quota first, then scale; or scale within the headroom
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 6
```

## Options
- `quota_threshold` (number, default 80; `amlforge review --quota-threshold N`): percent of a
  limit above which a rising use is reported.

## References
- how-to-manage-quotas.md (VM quota with the 20 % reserve), how-to-manage-quotas.md (endpoint and deployment limits)
- how-to-manage-quotas.md
"""

from collections.abc import Iterator
from typing import Any

from amlforge.policies.capacity._helpers import count_anchor
from amlforge.policies.capacity._quota import quota_table
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of
from amlforge.specs.project import Project


@rule("AML808", "quota-use-rising", Severity.WARNING, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    threshold = float(project.option("quota_threshold", 80))
    head, base = quota_table(project), quota_table(context.base)
    base_families = {f.family.lower(): f for f in base.families}
    for fam in head.families:
        if fam.quota is None or fam.quota.limit <= 0:
            continue
        old = base_families.get(fam.family.lower())
        used_after = fam.quota.usage + fam.reserved_vcpus
        used_before = fam.quota.usage + (old.reserved_vcpus if old else 0)
        pct = 100 * used_after / fam.quota.limit
        if used_after <= used_before or pct < threshold:
            continue
        old_uses = {(u.deployment.spec.endpoint_name or "", u.deployment.spec.name or ""): u.reserved_vcpus
                    for u in (old.uses if old else ())}
        outside = f", {fam.quota.usage} of it used outside this run" if fam.quota.usage else ""
        grower = max(fam.uses, key=lambda u: u.reserved_vcpus - old_uses.get(
            (u.deployment.spec.endpoint_name or "", u.deployment.spec.name or ""), 0))
        yield Violation(count_anchor(grower.deployment),
                        f"{fam.family} vCPU quota use rises from {used_before} to {used_after} of {fam.quota.limit} "
                        f"({pct:.0f}%{outside}), past the {threshold:g}% threshold",
                        "request a quota increase before merging, or keep the change within the headroom")
    for row_after, row_before, what in ((head.endpoints, base.endpoints, "endpoints"),
                                        (head.deployments, base.deployments, "deployments"),
                                        (head.total_compute, base.total_compute, "total compute")):
        yield from _count(row_after, row_before, what, threshold)


def _member(loaded: Any) -> tuple[str, str, str]:
    spec = loaded.spec
    return (loaded.doc.family, str(getattr(spec, "endpoint_name", "") or "").lower(), str(spec.name or "").lower())


def _count(after: Any, before: Any, what: str, threshold: float) -> Iterator[Violation]:
    """A counted limit (endpoints, deployments, total compute) whose use rises past the threshold."""
    if after.limit <= 0:
        return
    used_after, used_before = after.usage + after.count, after.usage + before.count
    pct = 100 * used_after / after.limit
    if used_after <= used_before or pct < threshold:
        return
    existing = {_member(m) for m in before.members}
    added = [m for m in after.members if _member(m) not in existing] or list(after.members)
    member = added[-1]
    anchor = member.at("name") if member.at("name").spelled_out else member.at()
    yield Violation(anchor,
                    f"{what} use rises from {used_before} to {used_after} of {after.limit} ({pct:.0f}%, "
                    f"{after.usage} of it outside this run), past the {threshold:g}% threshold",
                    "request a limit increase before merging, or remove resources that are no longer used")
