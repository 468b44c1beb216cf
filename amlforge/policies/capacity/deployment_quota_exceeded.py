"""The run creates more deployments than an endpoint, the subscription or the region allows.

## What it does
Checks three documented limits, with the defaults of the docs or the figures of the quota file:
- deployments per endpoint (20, `deployments_per_endpoint`): every deployment of an endpoint
  past the limit is reported;
- deployments per subscription and region (500, `deployments`): the run's deployments plus
  `usage`; managed, Kubernetes and batch deployments share it;
- the regional total compute limit (500, `total_compute`), shared by training clusters, compute
  instances and managed online deployments: the run's managed deployments plus `usage`.

## Why is this bad?
The deployment fails with OutOfQuota once a limit is reached; raising one needs a support
request, and the affected deployments must be re-created for a raised limit to apply.

## Example
```yaml
# quota.yaml: deployments_per_endpoint: 2; the endpoint already has blue and green
name: red
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 3
```
Use instead:
```yaml
# delete a deployment that no longer takes traffic first, or use another endpoint
name: red
endpoint_name: my-endpoint-2
instance_type: Standard_F4s_v2
instance_count: 3
```

## References
- [Manage quotas: endpoint limits](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._quota import OVER, quota_table
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML211", "deployment-quota-exceeded", Severity.ERROR, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    table = quota_table(project)
    for row in table.per_endpoint:
        if row.status != OVER:
            continue
        for dep in row.deployments[row.limit:]:
            yield Violation(
                dep.at("name"),
                f"endpoint '{row.endpoint}' has {row.count} deployments in this run; the limit is {row.limit} "
                "per endpoint",
                "delete deployments that no longer take traffic, or move some to another endpoint",
            )
    subscription = table.deployments
    for dep in subscription.beyond:
        yield Violation(
            dep.at("name"),
            f"deployment '{dep.spec.name}' does not fit: the run creates {subscription.count} deployments, "
            f"{subscription.usage} exist, and the limit is {subscription.limit} per subscription and region",
            "delete unused deployments, deploy to another region, or request a deployment limit increase",
        )
    compute = table.total_compute
    for dep in compute.beyond:
        yield Violation(
            dep.at("name"),
            f"deployment '{dep.spec.name}' does not fit in the regional total compute limit: {compute.count} "
            f"managed deployments in this run + {compute.usage} compute resources in use > {compute.limit}",
            "delete unused compute (clusters, compute instances, deployments) or request a total compute "
            "limit increase",
        )
