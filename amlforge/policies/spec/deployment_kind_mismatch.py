"""A deployment whose kind (managed or Kubernetes) is not its endpoint's.

## What it does
Reports a deployment whose kind differs from its endpoint's: `type: kubernetes` (in templates,
`endpointComputeType: Kubernetes`) under a managed endpoint, or a managed deployment
(`endpointComputeType: Managed`, the default) under a Kubernetes endpoint (one with `compute`).

## Why is this bad?
The service refuses the deployment (BadArgument: the compute type must match the endpoint's).
In templates the two are written in different resources, often far apart, and a copied
deployment keeps the compute type of the template it came from.

## Example
```yaml
name: blue
endpoint_name: k8s-endpoint  # an endpoint with compute: azureml:k8s-compute
model: azureml:iris:1
instance_type: Standard_DS3_v2
instance_count: 1
```
Use instead:
```yaml
name: blue
endpoint_name: k8s-endpoint
type: kubernetes
model: azureml:iris:1
instance_type: defaultinstancetype
instance_count: 1
```
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML115", "deployment-kind-mismatch", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for group in project.groups.values():
        for dep in group.deployments:
            endpoint = project.endpoint_of(dep)
            if endpoint is None:
                continue
            want = endpoint.spec.kind
            if dep.spec.kind == want:
                continue
            at = dep.at("type") if dep.doc.source.has(dep.prefix + ("type",)) else dep.at("name")
            yield Violation(at, f"deployment '{dep.spec.name}' is {dep.spec.kind}, but endpoint '{group.name}' is "
                                f"{want}",
                            "make the deployment's type (endpointComputeType) match its endpoint: "
                            + ("type: kubernetes / Kubernetes" if want == "kubernetes" else "type: managed / Managed"))
