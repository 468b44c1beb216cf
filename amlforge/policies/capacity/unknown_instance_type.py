"""A managed deployment's `instance_type` is not a SKU that managed online endpoints support.

## What it does
Looks up `instance_type` of every managed deployment in the SKU catalog shipped with amlforge
(the 85 sizes of the managed online endpoint SKU list), comparing names case-insensitively as
the service does, and suggests the closest valid names. Kubernetes deployments are skipped:
their instance types are custom resources defined in the cluster. A deployment without
`type: kubernetes` whose endpoint (in the run) is a Kubernetes endpoint is told to add the type.

## Why is this bad?
The service rejects the deployment with BadArgument. The az CLI and azure-ai-ml only check
that `instance_type` is a string, so a typo (`Standard_DS3_V3`) or a VM size that exists in
Azure but not for managed endpoints (`Standard_D4s_v3`) is found only at deploy time.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_V3
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```

## References
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import is_managed
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML201", "unknown-instance-type", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if not is_managed(dep):
            continue
        name = dep.spec.instance_type
        if not name or "{{" in name or project.skus.get(name) is not None:
            continue  # empty and placeholder values are reported by the spec rules
        group = project.group_of(dep)
        endpoint = group.endpoint if group is not None else None
        if endpoint is not None and getattr(endpoint.spec, "kind", None) == "kubernetes":
            yield Violation(dep.at("instance_type"),
                            f"deployment of Kubernetes endpoint '{endpoint.spec.name}' has no 'type: kubernetes', so "
                            f"instance_type '{name}' is looked up as a managed VM size",
                            "add 'type: kubernetes' to the deployment (its instance_type names an InstanceType of "
                            "the cluster)")
            continue
        close = project.skus.closest(name.strip())
        if name.strip() != name and project.skus.get(name.strip()):
            hint = f"remove the spaces: '{name.strip()}'"
        elif close:
            hint = "did you mean " + " or ".join(close) + "?"
        else:
            hint = "use a size from the managed online endpoint SKU list, e.g. Standard_F4s_v2"
        yield Violation(dep.at("instance_type"),
                        f"instance_type '{name}' is not a VM size that managed online endpoints support", hint)
