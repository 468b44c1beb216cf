"""`instance_count` next to `target_utilization` autoscaling, where it has no effect.

## What it does
Reports Kubernetes deployments that set `instance_count` together with
`scale_settings.type: target_utilization`.

## Why is this bad?
With `target_utilization` the autoscaler keeps the pod count between `min_instances` and
`max_instances` (and quota is reserved for `max_instances`); `instance_count` is "only
required if you're using the `default` scale type". A reader, or a capacity estimate, that
trusts `instance_count: 5` is wrong when `max_instances` is 1 (the default).

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
instance_count: 5
scale_settings:
  type: target_utilization
  min_instances: 1
  max_instances: 3
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
scale_settings:
  type: target_utilization
  min_instances: 1
  max_instances: 3
```

## References
- `reference-yaml-deployment-kubernetes-online.md` (`instance_count`, `scale_settings`); how-to-manage-quotas.md and reference-yaml-deployment-kubernetes-online.md.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project
from amlforge.specs.scale_settings import TargetUtilizationScaleSettings


@rule("AML315", "instance-count-with-autoscale", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        scale = dep.spec.scale_settings
        if not isinstance(scale, TargetUtilizationScaleSettings) or dep.spec.instance_count is None:
            continue
        yield Violation(dep.at("instance_count"),
                        f"instance_count {dep.spec.instance_count} has no effect with target_utilization scaling; "
                        f"the pod count moves between min_instances {scale.min_instances} and "
                        f"max_instances {scale.max_instances}",
                        "remove instance_count, and size the range with min_instances and max_instances", key=True)
