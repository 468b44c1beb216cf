"""A Kubernetes deployment names an instance type that the cluster's InstanceType objects do not define.

## What it does
When the run holds the cluster's InstanceType objects (an `InstanceType` or `InstanceTypeList`
of `amlarc.azureml.com/v1alpha1`, as `kubectl get instancetypes -o yaml` prints them), looks up
each Kubernetes deployment's `instance_type` among them (`defaultinstancetype` always exists),
and suggests the closest names. Without InstanceType objects in the run nothing is checked:
instance types live in the cluster.

## Why is this bad?
The deployment is accepted by the CLI and fails when the Azure Machine Learning extension cannot
find the instance type in the cluster: the deployment never schedules.

## Example
```yaml
# instancetypes.yaml
apiVersion: amlarc.azureml.com/v1alpha1
kind: InstanceType
metadata:
  name: gpu-small
spec:
  resources:
    limits: {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}
# deployment.yml
# type: kubernetes
# instance_type: gpu-smal
```
Use instead:
```yaml
type: kubernetes
instance_type: gpu-small
```

## References
- [Create and manage instance types](https://learn.microsoft.com/azure/machine-learning/how-to-manage-kubernetes-instance-types)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.kubernetes import DEFAULT_NAME
from amlforge.specs.project import Project


@rule("AML216", "unknown-kubernetes-instance-type", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    import difflib

    if not project.instance_types:
        return
    names = sorted({t.spec.name for t in project.instance_types} | {DEFAULT_NAME})
    for dep in project.deployments:
        if getattr(dep.spec, "kind", None) != "kubernetes" or not dep.spec.instance_type:
            continue
        name = dep.spec.instance_type
        if name in names:
            continue
        close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
        hint = ("did you mean " + " or ".join(close) + "?") if close else "use one of: " + ", ".join(names[:10])
        yield Violation(dep.at("instance_type"),
                        f"instance_type '{name}' is not among the cluster's instance types in this run", hint)
