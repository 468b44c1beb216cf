"""A Kubernetes resource request above its limit.

## What it does
For Kubernetes deployments, compares each `resources.requests` quantity (`cpu`, `memory`,
`nvidia.com/gpu`) with the matching `resources.limits` quantity, after parsing both as
Kubernetes quantities (`500m`, `1.5`, `1536Mi`, `2Gi`, `2G`). Malformed quantities are
reported by AML314.

## Why is this bad?
"Requests for resources must be less than or equal to limits": the deployment fails with
BadArgument ("Resource request was greater than limits"). Mixed units make the mistake easy
to miss: `memory: 2G` (2,000,000,000 bytes) is below `2Gi` (2,147,483,648 bytes), but
`1500Mi` is above `1.5G`.

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
resources:
  requests:
    cpu: "1500m"
    memory: "2Gi"
  limits:
    cpu: "1"
    memory: "1536Mi"
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
resources:
  requests:
    cpu: "500m"
    memory: "1Gi"
  limits:
    cpu: "1"
    memory: "1536Mi"
```

## References
- `how-to-troubleshoot-online-endpoints.md`, "Resource requests greater than limits" (BadArgument).
- `how-to-manage-kubernetes-instance-types.md`, "Resource section validation"; reference-yaml-deployment-kubernetes-online.md and how-to-troubleshoot-online-endpoints.md.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._resources import KINDS, by_place, show
from amlforge.specs.project import Project


@rule("AML313", "resource-request-above-limit", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if dep.spec.kind != "kubernetes" or getattr(dep.spec, "resources", None) is None:
            continue
        places = by_place(dep)
        for kind in KINDS:
            request, limit = places.get(("requests", kind)), places.get(("limits", kind))
            if request is None or limit is None or request.value is None or limit.value is None:
                continue
            if request.value > limit.value:
                yield Violation(
                    request.at,
                    f"{request.dotted} \"{request.raw}\" ({show(kind, request.value)}) is above "
                    f"{limit.dotted} \"{limit.raw}\" ({show(kind, limit.value)})",
                    f"lower the request to at most \"{limit.raw}\", or raise the limit",
                )
