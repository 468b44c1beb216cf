"""Traffic or mirror traffic sent to a deployment the run does not define for that endpoint.

## What it does
For an endpoint whose deployments are in the run (deployment files with that
`endpoint_name`), reports every `traffic` or `mirror_traffic` key with a positive share that
names none of them, and suggests the closest name. Names are compared case-insensitively, as
Azure does (azure-ai-ml lower-cases traffic keys). Keys with a share of 0 are ignored: the SDK
drops them before sending.

The severity is a warning, not an error: a deployment can exist in Azure without being in
this run (created from another repository, or from files not passed to amlforge). Endpoints
for which the run holds no deployment, or a deployment that takes its name at deploy time
(`--name`), are not checked, since the run cannot tell which deployments exist.

## Why is this bad?
Traffic can only name existing deployments of the endpoint; the update is rejected
otherwise (BadArgument). The usual cause is a renamed or removed deployment that still holds
traffic (`green` renamed to `green-v2`, endpoint file not updated).

## Example
```yaml
# endpoint.yml; the run holds deployments blue and green-v2 of this endpoint
name: my-endpoint
traffic:
  blue: 90
  green: 10
```
Use instead:
```yaml
name: my-endpoint
traffic:
  blue: 90
  green-v2: 10
```

## References
- reference-yaml-endpoint-online.md `traffic` and the ARM template reference of Microsoft.MachineLearningServices/workspaces/onlineEndpoints "Traffic ordering" (traffic can only name existing deployments).
- azure-ai-ml `operations/_online_endpoint_operations.py:_strip_zeroes_from_traffic` (lower-cases keys, drops zeros).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import (
    closest,
    endpoint_groups,
    known_deployments,
)
from amlforge.specs.project import Project


@rule("AML302", "traffic-unknown-deployment", Severity.WARNING, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep, group in endpoint_groups(project):
        known = known_deployments(group)
        if known is None:
            continue
        names = sorted(known.values())
        for field, what in (("traffic", "traffic"), ("mirror_traffic", "mirror traffic")):
            for key, value in (getattr(ep.spec, field) or {}).items():
                if value <= 0 or key.lower() in known:
                    continue
                guess = closest(key, names)
                hint = (f"rename the key to '{guess}'" if guess else
                        "point it at a deployment of this endpoint, or add that deployment's file to the run")
                yield Violation(
                    ep.at(field, key),
                    f"{what} sends {value}% to '{key}', which is not a deployment of '{ep.spec.name}' in this run "
                    f"(deployments here: {', '.join(names)})",
                    hint,
                    key=True,
                )
