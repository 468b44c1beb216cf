"""Kubernetes autoscale settings (`target_utilization`) with impossible values.

## What it does
Checks `scale_settings` of type `target_utilization`: `min_instances` and `max_instances`
at least 1 with `min_instances <= max_instances`, `target_utilization_percentage` between 1
and 100, and `polling_interval` at least 1 second. Values the file leaves out take the
documented defaults (1, 1, 70, 1), so `min_instances: 3` alone is reported (max stays 1).

## Why is this bad?
Kubernetes deployments with an invalid autoscale range fail with InvalidDeploymentSpec ("If
you enabled autoscaling, make sure the minimum instance count and maximum instance count are
both valid"); a percentage outside 1..100 or a polling interval of 0 is not a valid
autoscaler setting (BadArgument). azure-ai-ml checks none of these.

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
scale_settings:
  type: target_utilization
  min_instances: 3
  max_instances: 2
  target_utilization_percentage: 170
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
scale_settings:
  type: target_utilization
  min_instances: 2
  max_instances: 3
  target_utilization_percentage: 70
```

## References
- `how-to-troubleshoot-online-endpoints.md`, ERROR: InvalidDeploymentSpec; reference-yaml-deployment-kubernetes-online.md and how-to-troubleshoot-online-endpoints.md.
- `reference-yaml-deployment-kubernetes-online.md`, TargetUtilizationScaleSettings (defaults).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Anchor, Loaded, Project
from amlforge.specs.scale_settings import TargetUtilizationScaleSettings


@rule("AML312", "target-utilization-out-of-range", Severity.ERROR, prevents=("InvalidDeploymentSpec", "BadArgument"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        scale = dep.spec.scale_settings
        if not isinstance(scale, TargetUtilizationScaleSettings):
            continue

        def at(field: str, dep: Loaded = dep) -> Anchor:
            return dep.at("scale_settings", field)

        lo, hi = scale.min_instances, scale.max_instances
        for field, value in (("min_instances", lo), ("max_instances", hi)):
            if value < 1:
                yield Violation(at(field), f"scale_settings.{field} is {value}; it must be at least 1",
                                f"set {field} to 1 or more")
        if lo >= 1 and hi >= 1 and lo > hi:
            given_hi = at("max_instances").spelled_out
            field = "max_instances" if given_hi else "min_instances"
            shown_hi = f"max_instances {hi}" if given_hi else f"max_instances {hi} (the default)"
            yield Violation(at(field), f"scale_settings.min_instances {lo} is above {shown_hi}",
                            f"set max_instances to at least {lo}, or lower min_instances")
        pct = scale.target_utilization_percentage
        if not 1 <= pct <= 100:
            yield Violation(at("target_utilization_percentage"),
                            f"scale_settings.target_utilization_percentage is {pct}; it must be between 1 and 100",
                            "set it between 1 and 100; the default is 70")
        if scale.polling_interval < 1:
            yield Violation(at("polling_interval"),
                            f"scale_settings.polling_interval is {scale.polling_interval} s; it must be at least 1",
                            "set it to 1 second or more")
