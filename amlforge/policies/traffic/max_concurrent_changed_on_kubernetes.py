"""`max_concurrent_requests_per_instance` changed from 1 on a Kubernetes deployment.

## What it does
Reports Kubernetes online deployments whose
`request_settings.max_concurrent_requests_per_instance` is not the default 1. Information
only: the setting is valid, but the Kubernetes reference asks not to change it.

## Why is this bad?
The Kubernetes online deployment reference says: "Do not change this setting from the
default value unless instructed by Microsoft Technical Support or a member of the Azure
Machine Learning team." On Kubernetes, autoscaling (`target_utilization`) and the azureml-fe
router manage concurrency; raising the value adds queueing inside the pod instead.

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
request_settings:
  max_concurrent_requests_per_instance: 4
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
request_settings:
  max_concurrent_requests_per_instance: 1
```

## References
- `reference-yaml-deployment-kubernetes-online.md`, RequestSettings; reference-yaml-deployment-kubernetes-online.md.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML311", "max-concurrent-changed-on-kubernetes", Severity.INFO)
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if dep.spec.kind != "kubernetes" or dep.spec.request_settings is None:
            continue
        value = dep.spec.request_settings.max_concurrent_requests_per_instance
        if value == 1 or not dep.at("request_settings", "max_concurrent_requests_per_instance").spelled_out:
            continue
        yield Violation(dep.at("request_settings", "max_concurrent_requests_per_instance"),
                        f"max_concurrent_requests_per_instance is {value} on a Kubernetes deployment; the docs ask "
                        "to keep the default 1 unless Microsoft support says otherwise",
                        "set it to 1 and scale with scale_settings (target_utilization) instead")
