"""Endpoint traffic that does not add up to 100 (or 0).

## What it does
Adds up the `traffic` percentages of an endpoint. The total must be exactly 100, or 0 when no
deployment should receive live traffic yet. A total of 0 while the run holds deployments of
the endpoint is reported as information: the endpoint then answers every scoring call without
an `azureml-model-deployment` header with HTTP 404.

An endpoint without a `traffic` key is not checked (traffic is often set later with
`az ml online-endpoint update --traffic`).

## Why is this bad?
The service accepts only a total of 0 or 100 and rejects the update otherwise (BadArgument).
azure-ai-ml only rejects totals above 100 ("Traffic rule percentages must sum to less than or
equal to 100%"), so a canary split such as 70/20 passes the CLI and fails in Azure. With a
total of 0, "the endpoint doesn't have any valid deployment with positive weight" and scoring
calls get HTTP 404.

## Example
```yaml
name: my-endpoint
traffic:
  blue: 70
  green: 20
```
Use instead:
```yaml
name: my-endpoint
traffic:
  blue: 80
  green: 20
```

## Fix safety
Unsafe: the fix changes the traffic of one deployment, the last one in the file whose value
can absorb the difference (usually the newest, the one being rolled out), so that the split
adds up to 100. Which deployment should give or take the traffic is a release decision: the
fix is offered only with `--unsafe-fixes`, and not at all when no single value can balance
the split.

## References
- reference-yaml-endpoint-online.md `traffic` ("Values must total 0 or 100"), how-to-troubleshoot-online-endpoints.md HTTP 404, the azure-ai-ml 1.35.2 loaders (load_online_endpoint/load_online_deployment) (SDK checks only > 100).
- `how-to-safely-rollout-online-endpoints.md`; `how-to-troubleshoot-online-endpoints.md` (HTTP status codes).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import listing
from amlforge.specs.edits import Applicability, Fix, replace_value
from amlforge.specs.project import Loaded, Project


@rule("AML301", "traffic-sum-not-100", Severity.ERROR, prevents=("BadArgument", "HTTP 404"))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        traffic = ep.spec.traffic
        if traffic is None:
            continue
        total = sum(traffic.values())
        if total == 100:
            continue
        if all(v == 0 for v in traffic.values()):
            group = project.groups.get(ep.spec.name.lower()) if ep.spec.name else None
            if group is None or not group.deployments:
                continue  # an endpoint created before its deployments: the documented order
            names = ", ".join(sorted(d.label for d in group.deployments))
            yield Violation(
                ep.at("traffic"),
                f"traffic sums to 0: no deployment of '{ep.spec.name}' receives live traffic "
                f"(deployments in this run: {names}), so scoring calls without the "
                "azureml-model-deployment header get HTTP 404",
                f"give a tested deployment 100, e.g. set {min(d.label for d in group.deployments)} to 100",
                key=True,
                severity=Severity.INFO,
            )
            continue
        yield Violation(ep.at("traffic"), f"traffic sums to {total} ({listing(traffic)}), expected 100 or 0",
                        _hint(traffic, total), key=True, fix=_fix(ep, traffic, total))


def _balance(traffic: dict[str, int], total: int) -> tuple[str, int] | None:
    """The one deployment to change, and its new value, that brings the total to 100."""
    if len(traffic) == 1:
        (name,) = traffic
        return name, 100
    for name in reversed(list(traffic)):
        fixed = traffic[name] + (100 - total)
        if 0 <= fixed <= 100:
            return name, fixed
    return None


def _fix(ep: Loaded, traffic: dict[str, int], total: int) -> Fix | None:
    change = _balance(traffic, total)
    if change is None:
        return None
    name, value = change
    anchor = ep.at("traffic", name)
    return replace_value(anchor.doc.source, anchor.path, traffic[name], value, f"Set {name} to {value}",
                         Applicability.UNSAFE)


def _hint(traffic: dict[str, int], total: int) -> str:
    """Suggest one change that brings the total to 100."""
    change = _balance(traffic, total)
    if change is None:
        return "make the percentages add up to 100, each between 0 and 100"
    if len(traffic) == 1:
        return f"set {change[0]} to 100"
    return f"set {change[0]} to {change[1]} so the split adds up to 100"
