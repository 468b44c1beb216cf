"""A Kubernetes endpoint and deployment name that together are shorter than 6 or longer than 62 characters.

## What it does
Adds the lengths of a Kubernetes deployment's `endpoint_name` and `name` and reports a total
outside 6 to 62 characters, the limit of Kubernetes online endpoints.

## Why is this bad?
The cluster objects are named after both; a combined name outside the limit cannot be created,
and the deployment fails although each name alone is valid.

## Example
```yaml
name: blue-deployment-for-the-fraud-scoring-model
endpoint_name: fraud-scoring-endpoint-west-europe
type: kubernetes
```
Use instead:
```yaml
name: blue
endpoint_name: fraud-scoring-weu
type: kubernetes
```

## References
- [Azure Machine Learning quotas and limits](https://learn.microsoft.com/azure/machine-learning/how-to-manage-quotas) (Kubernetes online endpoints: endpoint name + deployment name 6-62 characters)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML605", "kubernetes-name-length-out-of-range", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    low, high = project.knowledge.limit("kubernetes_name_length", [6, 62])
    for dep in project.deployments:
        if getattr(dep.spec, "kind", None) != "kubernetes" or not dep.spec.name or not dep.spec.endpoint_name:
            continue
        total = len(dep.spec.name) + len(dep.spec.endpoint_name)
        if low <= total <= high:
            continue
        yield Violation(dep.at("name"),
                        f"endpoint name '{dep.spec.endpoint_name}' and deployment name '{dep.spec.name}' have "
                        f"{total} characters together; Kubernetes online endpoints allow {low} to {high}",
                        "shorten the names" if total > high else "lengthen the names")
