"""An MLflow model on Kubernetes with less than 2 CPU or 4 GiB of memory.

## What it does
For a Kubernetes deployment of an MLflow model (`type: mlflow_model`), works out the CPU and
memory its container requests: the deployment's `resources.requests`, else those of the
InstanceType object it names (when in the run), else the default instance type's 100m CPU and
2 GiB. Reports less than 2 CPU or 4 GiB, the minimum the documentation gives for MLflow models.

## Why is this bad?
MLflow models install their dependencies and load the model at container start; with less, the
container is killed for memory or misses its probes, and the deployment never becomes ready.

## Example
```yaml
type: kubernetes
model:
  path: ./model
  type: mlflow_model
resources:
  requests: {cpu: "1", memory: 2Gi}
```
Use instead:
```yaml
type: kubernetes
model:
  path: ./model
  type: mlflow_model
resources:
  requests: {cpu: "2", memory: 4Gi}
```

## References
- [Create and manage instance types](https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types) (MLflow models need at least 2 CPU and 4 GiB; the default instance type requests 100m / 2Gi)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._resources import show
from amlforge.specs.kubernetes import DEFAULT_REQUESTS
from amlforge.specs.project import Project
from amlforge.specs.resources import parse_quantity


@rule("AML215", "mlflow-on-kubernetes-too-small", Severity.WARNING, prevents=("ResourceNotReady", "PodOutOfMemory"))
def check(project: Project) -> Iterator[Violation]:
    facts = project.knowledge.mlflow
    need = {"cpu": float(facts.get("kubernetes_min_cpu", 2)), "memory": float(facts.get("kubernetes_min_memory_gib", 4)) * 2**30}
    for dep in project.deployments:
        if getattr(dep.spec, "kind", None) != "kubernetes":
            continue
        model = project.model_of(dep)  # inline, or a model file of the run it names
        if model is None or model.spec.type != "mlflow_model":
            continue
        requests, where, anchor = _requests(project, dep)
        short = [k for k in ("cpu", "memory") if requests.get(k) is not None and requests[k] < need[k]]
        if not short:
            continue
        got = ", ".join(show(k, requests[k]) for k in short)
        want = ", ".join(show(k, need[k]) for k in short)
        yield Violation(anchor, f"MLflow model on Kubernetes gets {got} ({where}); MLflow models need at least {want}",
                        "request at least cpu: \"2\" and memory: 4Gi (resources.requests or a larger instance type)")


def _cpu_and_memory(settings) -> dict[str, float | None]:  # noqa: ANN001 - ResourceSettings or CrdResources
    return {k: parse_quantity(getattr(settings, k)) if getattr(settings, k) else None for k in ("cpu", "memory")}


def _requests(project: Project, dep):  # noqa: ANN001, ANN202 - small private helper
    """What the container requests, where that comes from, and where to point."""
    resources = dep.spec.resources
    if resources is not None and resources.requests is not None:
        return _cpu_and_memory(resources.requests), "resources.requests", dep.at("resources", "requests")
    name = dep.spec.instance_type
    itype = project.instance_type(name) if name else None
    if itype is not None and itype.spec.spec.resources is not None and itype.spec.spec.resources.requests is not None:
        return (_cpu_and_memory(itype.spec.spec.resources.requests), f"instance type '{name}' requests",
                dep.at("instance_type"))
    if name and itype is None and project.instance_types:
        return {}, "", dep.at()
    if name and not project.instance_types and name != "defaultinstancetype":
        return {}, "", dep.at()  # the cluster's instance type is not in the run: unknown
    return ({k: parse_quantity(v) for k, v in DEFAULT_REQUESTS.items()}, "the default instance type's requests",
            dep.at("instance_type") if name else dep.at())
