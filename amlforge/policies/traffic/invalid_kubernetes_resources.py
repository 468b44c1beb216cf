"""A Kubernetes `resources` section that breaks the documented validation rules.

## What it does
For Kubernetes deployments that set `resources`, checks the rules of "Resource section
validation":

- every quantity parses as a Kubernetes quantity (`500m`, `"1"`, `1024Mi`, `2Gi`);
- `requests.cpu` and `requests.memory` are present and not zero, and no CPU or memory
  limit is zero;
- memory is at least 1 MB (a bare number is bytes: `memory: "1024"` is 1 KB);
- a GPU count is a whole number and is given in `limits`; a GPU in `requests` without the
  same count in `limits` is an error, and `limits.cpu` and `limits.memory` are required
  when a GPU is requested;
- a GPU in `requests` that matches `limits` is a warning: Kubernetes accepts it, but the
  Azure ML docs allow the GPU count "only in the `limits` section".

## Why is this bad?
"An invalid resource definition causes the model deployment to fail" (BadArgument). A
memory value without a unit, or a GPU the scheduler cannot place, leaves pods Pending
(PodUnschedulable) or kills them at start.

## Example
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
resources:
  requests:
    cpu: "0"
    memory: "1024"
    nvidia.com/gpu: "1"
```
Use instead:
```yaml
name: blue
type: kubernetes
endpoint_name: my-k8s-endpoint
resources:
  requests:
    cpu: "500m"
    memory: "1024Mi"
  limits:
    cpu: "1"
    memory: "2Gi"
    nvidia.com/gpu: "1"
```

## References
- `how-to-manage-kubernetes-instance-types.md`, "Resource section validation" (required requests,
  "can't be zero or empty", "Memory can't be less than 1 MB", GPU "only in the `limits` section").
- reference-yaml-deployment-kubernetes-online.md and how-to-troubleshoot-online-endpoints.md (PodUnschedulable).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._resources import by_place, show
from amlforge.specs.project import Project

MIN_MEMORY_BYTES = 1_000_000


@rule("AML314", "invalid-kubernetes-resources", Severity.ERROR, prevents=("BadArgument", "PodUnschedulable"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        resources = getattr(dep.spec, "resources", None)
        if dep.spec.kind != "kubernetes" or resources is None:
            continue
        places = by_place(dep)
        for q in places.values():
            if q.value is None:
                yield Violation(q.at, f"{q.dotted} \"{q.raw}\" is not a Kubernetes quantity",
                                _example(q.kind))
            elif q.kind == "gpu":
                if q.value != int(q.value):
                    yield Violation(q.at, f"{q.dotted} \"{q.raw}\" is not a whole number of GPUs",
                                    "give a whole number of GPUs, e.g. \"1\"")
            elif q.value == 0:
                yield Violation(q.at, f"{q.dotted} is \"{q.raw}\"; CPU and memory values cannot be zero",
                                _example(q.kind))
            elif q.kind == "memory" and q.value < MIN_MEMORY_BYTES:
                yield Violation(q.at, f"{q.dotted} \"{q.raw}\" is {show('memory', q.value)}, below the 1 MB minimum"
                                + (" (a number without a unit is bytes)" if q.raw.strip().isdigit() else ""),
                                f"add a unit, e.g. \"{q.raw.strip()}Mi\"" if q.raw.strip().isdigit()
                                else "give at least 1Mi")
        for kind in ("cpu", "memory"):
            if ("requests", kind) not in places:
                yield Violation(dep.at("resources", "requests", kind),
                                f"resources.requests.{kind} is missing; it is required when resources is set",
                                f"add requests.{kind}, e.g. {_example(kind).split('e.g. ', 1)[-1]}")
        request_gpu, limit_gpu = places.get(("requests", "gpu")), places.get(("limits", "gpu"))
        if request_gpu is not None and request_gpu.value:
            if limit_gpu is None or limit_gpu.value != request_gpu.value:
                have = f"limits has \"{limit_gpu.raw}\"" if limit_gpu is not None else "limits has none"
                yield Violation(request_gpu.at,
                                f"{request_gpu.dotted} \"{request_gpu.raw}\" is set but {have}; "
                                "the GPU count belongs in limits only",
                                f"move it to limits.{request_gpu.key} and remove it from requests")
            else:
                yield Violation(request_gpu.at,
                                f"{request_gpu.dotted} repeats the GPU limit \"{limit_gpu.raw}\"; the Azure ML docs "
                                "allow the GPU count only in limits",
                                "remove it from requests", severity=Severity.WARNING)
        if limit_gpu is not None and limit_gpu.value:
            for kind in ("cpu", "memory"):
                if ("limits", kind) not in places:
                    yield Violation(dep.at("resources", "limits", kind),
                                    f"resources.limits.{kind} is missing; it is required with a GPU limit "
                                    f"({limit_gpu.dotted} \"{limit_gpu.raw}\")",
                                    f"add limits.{kind}")


def _example(kind: str) -> str:
    return {
        "cpu": "write cores or millicores as a quoted string, e.g. \"500m\"",
        "memory": "write a number with a unit as a quoted string, e.g. \"1024Mi\"",
        "gpu": "write a whole number of GPUs as a quoted string, e.g. \"1\"",
    }[kind]
