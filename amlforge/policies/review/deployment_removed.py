"""A deployment that the base defines and the change no longer does.

## What it does
In `amlforge review`, reports each deployment (matched by endpoint and deployment name) that
exists at the base but not in the configuration under review. It is an error when the base
sent live traffic to it, a warning otherwise.

## Why is this bad?
A declarative update (Bicep/ARM in complete mode, or a pipeline that makes the workspace match
the repository) deletes what the files no longer define. Deleting a deployment that serves
traffic either fails (the service refuses while it has live traffic) or, when the traffic block
moves at the same time, cuts its callers off in one step, with no way back but a full
redeployment. A deployment renamed in the YAML is a delete plus a create.

## Example
```yaml
# endpoint.yml at the base; blue.yml and green.yml define both deployments
name: my-endpoint
traffic:
  blue: 90
  green: 10
```
```yaml
# under review: green.yml was deleted, and the endpoint still lists it
name: my-endpoint
traffic:
  blue: 90
  green: 10
```
Use instead:
```yaml
# first change: move green's traffic away (then delete green.yml in a later change)
name: my-endpoint
traffic:
  blue: 100
  green: 0
```

## References
- how-to-safely-rollout-online-endpoints.md ("remove the old deployment" after traffic is 0)
- reference-yaml-endpoint-online.md (a deployment with live traffic cannot be deleted)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of, deployments, endpoints, traffic
from amlforge.specs.project import Project


@rule("AML802", "deployment-removed", Severity.WARNING, prevents=("BadArgument", "HTTP 404"))
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    now = deployments(project)
    eps = endpoints(project)
    for key, dep in deployments(context.base).items():
        if key in now:
            continue
        endpoint = dep.spec.endpoint_name
        share = (traffic(context.base, endpoint) or {}).get(key[1], 0)
        mirrored = _mirror(context.base, endpoint, key[1])
        head_ep = eps.get(key[0])
        still_routed = head_ep is not None and key[1] in {k.lower() for k in (head_ep.spec.traffic or {})}
        if head_ep is not None:
            anchor = head_ep.at("traffic") if head_ep.at("traffic").spelled_out else head_ep.at("name")
            where = f"endpoint '{head_ep.spec.name}'"
        else:
            anchor, where = dep.at("name"), f"endpoint '{endpoint}' (also gone from this change)"
        parts = [f"deployment '{dep.spec.name}' of {where} is no longer defined; a declarative update deletes it"]
        if share:
            parts.append(f"it served {share}% of live traffic at the base")
        if mirrored:
            parts.append(f"it received {mirrored}% mirrored traffic")
        if still_routed:
            parts.append("and the endpoint's traffic still names it")
        hint = ("move its traffic to another deployment in one change and delete it in a later one" if share
                else "make sure no caller pins it with the azureml-model-deployment header, then delete it on purpose")
        yield Violation(anchor, "; ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if parts[2:] else ""), hint,
                        key=anchor.path[-1:] == ("traffic",),
                        severity=Severity.ERROR if share else None)


def _mirror(project: Project, endpoint: str | None, name: str) -> int:
    ep = endpoints(project).get((endpoint or "").lower())
    mirror = getattr(ep.spec, "mirror_traffic", None) if ep is not None else None
    return {k.lower(): v for k, v in (mirror or {}).items()}.get(name, 0)
