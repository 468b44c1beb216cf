"""A production Kubernetes deployment that autoscales down to fewer than 3 pods.

## What it does
In the `prod` profile, reports Kubernetes deployments with `target_utilization` scaling (the
Kubernetes default) whose `min_instances` is below `min_production_instances` (default 3, the
floor AML207 uses for managed `instance_count`). A deployment without `scale_settings` scales
between the defaults 1 and 1 and is reported too. Ranges that are invalid are AML312's.

## Why is this bad?
The autoscaler "is designed to handle gradual changes in load"; on a spike, AKS takes "a
significant amount of time to create more containers" and clients get HTTP 503 meanwhile. The
troubleshooting guide's first remedy is a larger minimum number of replicas (the other is a lower
`target_utilization_percentage`). One or two pods also leave no redundancy while a node is
drained or a pod restarts. The floor of 3 is a heuristic borrowed from the managed
high-availability recommendation; set `min_production_instances` to change it.

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
scale_settings:
  type: target_utilization
  min_instances: 1
  max_instances: 6
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
scale_settings:
  type: target_utilization
  min_instances: 3
  max_instances: 6
```

## Options
- `min_production_instances` (number, default 3; shared with AML207): the floor for `min_instances`.

## References
- `how-to-troubleshoot-online-endpoints.md`, "How to prevent 503 status code errors"; how-to-troubleshoot-online-endpoints.md (503).
- `reference-yaml-deployment-managed-online.md` (`instance_count`: "at least `3`" for high availability).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import number_option
from amlforge.specs.project import Project
from amlforge.specs.scale_settings import TargetUtilizationScaleSettings


@rule("AML317", "min-instances-below-high-availability", Severity.WARNING, prevents=("HTTP 503",),
      profiles=("prod",))
def check(project: Project) -> Iterator[Violation]:
    floor: int | None = None
    for dep in project.deployments:
        if dep.spec.kind != "kubernetes":
            continue
        scale = dep.spec.scale_settings
        if scale is None:
            if dep.spec.instance_count is not None:
                continue  # the file means a fixed count; whether the service honours it is unconfirmed
            scale = TargetUtilizationScaleSettings()
        elif not isinstance(scale, TargetUtilizationScaleSettings):
            continue
        lo, hi = scale.min_instances, scale.max_instances
        if lo < 1 or hi < 1 or lo > hi:
            continue  # AML312
        floor = floor or int(number_option(project, "min_production_instances", 3, minimum=1, strict=False))
        if lo >= floor:
            continue
        if dep.spec.scale_settings is None:
            where, shown = dep.at("type"), ("has no scale_settings, so it runs 1 pod "
                                            "(target_utilization defaults: min_instances 1, max_instances 1)")
        else:
            where, shown = dep.at("scale_settings", "min_instances"), f"scales down to min_instances {lo} (max_instances {hi})"
        yield Violation(where,
                        f"production Kubernetes deployment '{dep.label}' {shown}; fewer than {floor} pods "
                        "leave no headroom for spikes (HTTP 503 while pods are added) and no redundancy",
                        f"set scale_settings.min_instances to at least {floor}"
                        + (f" and max_instances to at least {floor}" if hi < floor else ""))
