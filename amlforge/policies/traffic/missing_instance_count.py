"""A deployment with a fixed scale (`default`) but no `instance_count`.

## What it does
Reports managed deployments without `instance_count`, and Kubernetes deployments without
`instance_count` whose `scale_settings.type` is `default`. Kubernetes deployments without
`scale_settings` use `target_utilization` scaling and need no `instance_count`. The value of
`instance_count` (1-50, at least 3 in production, quota) is checked by the capacity rules
(AML2xx).

## Why is this bad?
The managed deployment reference marks `instance_count` as **Required**, and the Kubernetes
reference requires it with the `default` scale type. azure-ai-ml does not (its schema makes it
optional), so the file passes the CLI and the request reaches Azure without a capacity
(`sku.capacity`). The exact service message is not documented (**unconfirmed**); the
Kubernetes error is InvalidDeploymentSpec ("make sure the instance count is valid").

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```

## References
- `reference-yaml-deployment-managed-online.md` (`instance_count`: **Required**) and
  `reference-yaml-deployment-kubernetes-online.md` ("only required if you're using the `default` scale type").
- reference-yaml-deployment-managed-online.md, reference-yaml-deployment-kubernetes-online.md; `how-to-troubleshoot-online-endpoints.md`, ERROR: InvalidDeploymentSpec.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project
from amlforge.specs.scale_settings import DefaultScaleSettings


@rule("AML316", "missing-instance-count", Severity.ERROR, prevents=("BadArgument", "InvalidDeploymentSpec"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if dep.spec.instance_count is not None or dep.doc.source.is_unknown(dep.prefix + ("instance_count",)):
            continue  # set, or set to a value known only at run time (a Python call's result)
        if dep.spec.kind == "managed":
            yield Violation(dep.at("instance_type"),
                            f"managed deployment '{dep.label}' has no instance_count; the service requires one",
                            "add instance_count (at least 3 in production for high availability)", key=True)
        elif isinstance(dep.spec.scale_settings, DefaultScaleSettings):
            yield Violation(dep.at("scale_settings", "type"),
                            f"Kubernetes deployment '{dep.label}' uses scale type default but has no instance_count",
                            "add instance_count, or switch to scale_settings.type: target_utilization")
