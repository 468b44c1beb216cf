"""The run creates more online endpoints than the subscription and region allow.

## What it does
Counts the endpoint files of the run, adds the endpoints already in use (`endpoints.usage` of
the quota file) and compares with the limit (100 per subscription and region by default,
`endpoints.limit` in the quota file). Every endpoint past the limit is reported. Managed,
Kubernetes and batch endpoints share the limit. Endpoints that deployments name but whose file
is not in the run are assumed to exist already (they are part of `usage`).

## Why is this bad?
Creating the endpoint fails with OutOfQuota (endpoint limit reached). The limit can be raised
with a support request, which takes time.

## Example
```yaml
# quota.yaml: endpoints: {limit: 100, usage: 100}
name: my-endpoint
auth_mode: key
```
Use instead:
```yaml
# delete an unused endpoint first, or get the limit raised:
# quota.yaml: endpoints: {limit: 120, usage: 100}
name: my-endpoint
auth_mode: key
```

## References
- [Manage quotas: endpoint limits](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._quota import quota_table
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML210", "endpoint-quota-exceeded", Severity.ERROR, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    row = quota_table(project).endpoints
    for ep in row.beyond:
        yield Violation(
            ep.at("name"),
            f"endpoint '{ep.spec.name}' does not fit: the run creates {row.count} endpoints, {row.usage} exist, and "
            f"the limit is {row.limit} per subscription and region",
            "delete unused endpoints, deploy to another region, or request an endpoint limit increase",
        )
