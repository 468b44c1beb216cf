"""A change of `instance_type` on an existing deployment.

## What it does
In `amlforge review`, reports a deployment (same endpoint, same name) whose `instance_type`
differs from the base (compared ignoring case; a Kubernetes deployment without one uses
`defaultinstancetype`).

## Why is this bad?
The REST model marks `instanceType` create-only: an update that changes it is rejected, and
the only way to apply it in place is to delete the deployment and create it again, which drops
its traffic and capacity while the new VMs are provisioned (and needs quota for the new VM
family first). The safe path is a new deployment on the new SKU, a gradual traffic shift, then
deleting the old one.

## Example
```yaml
# blue.yml at the base
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 3
```
```yaml
# blue.yml under review
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F8s_v2
instance_count: 3
```
Use instead:
```yaml
# a new deployment, green.yml; shift traffic to it, then remove blue
name: green
endpoint_name: my-endpoint
instance_type: Standard_F8s_v2
instance_count: 3
```

## References
- reference-yaml-deployment-managed-online.md (`instance_type`: create-only in the REST model, so a new deployment is needed)
- how-to-safely-rollout-online-endpoints.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of, pairs
from amlforge.specs.project import Project

DEFAULT_KUBERNETES_TYPE = "defaultinstancetype"


def _type(dep) -> str | None:
    value = dep.spec.instance_type
    if value is None and getattr(dep.spec, "kind", "") == "kubernetes":
        return DEFAULT_KUBERNETES_TYPE
    return value


@rule("AML803", "instance-type-changed", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    for before, after in pairs(context, project):
        a, b = _type(before), _type(after)
        if a is None or b is None or a.lower() == b.lower():
            continue
        anchor = after.at("instance_type") if after.at("instance_type").spelled_out else after.at("name")
        name = after.spec.name
        yield Violation(anchor,
                        f"instance_type of deployment '{name}' changes from {a} to {b}; instance_type is "
                        "create-only, so the update is rejected or needs the deployment deleted and re-created",
                        f"create a new deployment (e.g. '{name}-2') on {b}, shift traffic to it, then delete '{name}'")
