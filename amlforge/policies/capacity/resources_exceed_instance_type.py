"""A Kubernetes deployment asks for more CPU, memory or GPU than its instance type allows.

## What it does
Compares each quantity of a Kubernetes deployment's `resources` (requests and limits) with the
limits of the InstanceType object it names, when that object is in the run.

## Why is this bad?
The deployment's resources must stay within the instance type's limits: otherwise its pods
cannot be admitted and the deployment fails (the instance type exists precisely to cap them).

## Example
```yaml
# InstanceType cpu-small limits: {cpu: "1", memory: 2Gi}
type: kubernetes
instance_type: cpu-small
resources:
  requests: {cpu: "2", memory: 1Gi}
```
Use instead:
```yaml
type: kubernetes
instance_type: cpu-small
resources:
  requests: {cpu: 500m, memory: 1Gi}
```

## References
- [Create and manage instance types](https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._resources import quantities, show
from amlforge.specs.project import Project
from amlforge.specs.resources import parse_quantity


@rule("AML217", "resources-exceed-instance-type", Severity.ERROR, prevents=("PodUnschedulable",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if getattr(dep.spec, "kind", None) != "kubernetes" or not dep.spec.instance_type:
            continue
        itype = project.instance_type(dep.spec.instance_type)
        resources = itype.spec.spec.resources if itype is not None else None
        limits = resources.limits if resources is not None else None
        if limits is None:
            continue
        for q in quantities(dep):
            cap_raw = getattr(limits, q.kind)
            cap = parse_quantity(cap_raw) if cap_raw is not None else None
            if cap is None or q.value is None or q.value <= cap:
                continue
            yield Violation(q.at,
                            f"{q.dotted} is {show(q.kind, q.value)}, above the {show(q.kind, cap)} limit of instance "
                            f"type '{itype.spec.name}'",
                            f"lower it to at most {cap_raw}, or pick a larger instance type")
