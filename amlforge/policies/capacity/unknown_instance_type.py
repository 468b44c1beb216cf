"""A managed deployment's `instance_type` is not a SKU that managed online endpoints support.

## What it does
Looks up `instance_type` of every managed deployment in the SKU catalog shipped with amlforge
(the 85 sizes of the managed online endpoint SKU list), comparing names case-insensitively as
the service does, and suggests the closest valid names. Kubernetes deployments are skipped:
their instance types are custom resources defined in the cluster. A deployment without
`type: kubernetes` whose endpoint (in the run) is a Kubernetes endpoint is told to add the type.

## Why is this bad?
The service rejects the deployment with BadArgument. The az CLI and azure-ai-ml only check
that `instance_type` is a string, so a typo (`Standard_DS3_V3`) or a VM size that exists in
Azure but not for managed endpoints (`Standard_D4s_v3`) is found only at deploy time.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_V3
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```

## Fix safety
When the value is a catalog name with spaces around it, or one edit (a character added, left
out, changed or two neighbours swapped, in any case) away from exactly one catalog name, the
fix writes that name as the catalog spells it. It is safe when the edit is in the version
suffix (`_v9` -> `_v2`) or only adds or removes a `_`; otherwise (`Standard_D4s_v3` ->
`Standard_E4s_v3`) it picks another VM series, with other vCPUs, memory and price, and is
unsafe. No fix when two names are that close.

## References
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import is_managed
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.edits import Applicability, Fix, replace_value
from amlforge.specs.project import Loaded, Project


@rule("AML201", "unknown-instance-type", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        if not is_managed(dep):
            continue
        name = dep.spec.instance_type
        if not name or "{{" in name or project.skus.get(name) is not None:
            continue  # empty and placeholder values are reported by the spec rules
        endpoint = project.endpoint_of(dep)
        if endpoint is not None and getattr(endpoint.spec, "kind", None) == "kubernetes":
            yield Violation(dep.at("instance_type"),
                            f"deployment of Kubernetes endpoint '{endpoint.spec.name}' has no 'type: kubernetes', so "
                            f"instance_type '{name}' is looked up as a managed VM size",
                            "add 'type: kubernetes' to the deployment (its instance_type names an InstanceType of "
                            "the cluster)")
            continue
        close = project.skus.closest(name.strip())
        if name.strip() != name and project.skus.get(name.strip()):
            hint = f"remove the spaces: '{name.strip()}'"
        elif close:
            hint = "did you mean " + " or ".join(close) + "?"
        else:
            hint = "use a size from the managed online endpoint SKU list, e.g. Standard_F4s_v2"
        yield Violation(dep.at("instance_type"),
                        f"instance_type '{name}' is not a VM size that managed online endpoints support", hint,
                        fix=_fix(project, dep, name))


def _fix(project: Project, dep: Loaded, name: str) -> Fix | None:
    """The catalog name ``name`` was meant to be: stripped of spaces, or the only name one edit away."""
    anchor = dep.at("instance_type")
    stripped = project.skus.get(name.strip())
    if stripped is not None:
        return replace_value(anchor.doc.source, anchor.path, name, stripped.name, f"Remove the spaces around '{name.strip()}'")
    written = name.strip().lower()
    near = [(s.name, at) for s in project.skus if (at := edit_at(written, s.name.lower())) is not None]
    if len(near) != 1:
        return None
    target, at = near[0]
    suffix = target.lower().rfind("_v")
    only_separator = written.replace("_", "") == target.lower().replace("_", "")
    safe = only_separator or (suffix >= 0 and at >= suffix)
    return replace_value(anchor.doc.source, anchor.path, name, target, f"Replace '{name}' with '{target}'",
                         Applicability.SAFE if safe else Applicability.UNSAFE)


def edit_at(a: str, b: str) -> int | None:
    """Where ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of two
    neighbours (the index of the first changed character), or None when it does not."""
    if a == b or abs(len(a) - len(b)) > 1:
        return None
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                              and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]):
            return diff[0]
        return None
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return i if short[i:] == long[i + 1:] else None
