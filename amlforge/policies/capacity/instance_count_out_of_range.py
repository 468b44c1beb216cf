"""An instance count below 1, or above the instances a managed deployment may have.

## What it does
Checks `instance_count` of managed deployments against 1 to 50 (the documented "instances per
deployment" limit, or `instances_per_deployment` of the quota file), and of Kubernetes
deployments with a fixed scale against at least 1. Kubernetes autoscaling bounds
(`min_instances`, `max_instances`) are checked by AML312.

## Why is this bad?
The az CLI and azure-ai-ml accept any integer here, negative included. The service rejects the
deployment: BadArgument for a count below 1, OutOfQuota above the per-deployment limit (which
counts before the 20% upgrade reserve), and InvalidDeploymentSpec on Kubernetes ("make sure
the instance count is valid").

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 0
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```

## References
- [Managed online deployment YAML](https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online)
- [Manage quotas: endpoint limits](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import is_managed
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML206", "instance-count-out-of-range", Severity.ERROR,
      prevents=("BadArgument", "OutOfQuota", "InvalidDeploymentSpec"))
def check(project: Project) -> Iterator[Violation]:
    limit = None
    for dep in project.deployments:
        count = dep.spec.instance_count
        if is_managed(dep):
            if count is None:
                continue
            limit = limit or project.quota_figures.instances_per_deployment
            if count < 1:
                yield Violation(dep.at("instance_count"),
                                f"instance_count is {count}; a managed deployment needs 1 to {limit} instances",
                                "set instance_count to 1 or more (3 or more in production)")
            elif count > limit:
                yield Violation(dep.at("instance_count"),
                                f"instance_count is {count}, above the limit of {limit} instances per deployment",
                                f"lower instance_count to {limit} or less, split the load over more deployments, "
                                "or request a limit increase")
            continue
        scale = dep.spec.scale_settings
        if scale is not None and scale.type == "target_utilization":
            continue  # min_instances/max_instances are AML312's; instance_count has no effect (AML315)
        if count is not None and count < 1:
            yield Violation(dep.at("instance_count"),
                            f"instance_count is {count}; a deployment needs at least 1 instance",
                            "set instance_count to 1 or more")
