"""A change that moves more live traffic between deployments than the allowed step.

## What it does
In `amlforge review`, compares each endpoint's `traffic` at the base with the one under review
and reports the endpoint when a deployment's share moves by more than `traffic_step` points
(default 20) in one change. Endpoints without a `traffic` block on either side are skipped (the
split is then managed outside the file).

## Why is this bad?
A safe rollout moves traffic in small steps and watches latency and errors between them
(safe rollout guide: 10 %, then more). Promoting a canary from 10 % to 100 % in one merge sends
every request to a deployment that has only seen a tenth of them; if it misbehaves under full
load, all callers get errors (HTTP 5xx, 408, 429) until someone shifts the traffic back.

## Example
```yaml
# endpoint.yml at the base
name: my-endpoint
traffic:
  blue: 90
  green: 10
```
```yaml
# endpoint.yml under review: green jumps by 90 points
name: my-endpoint
traffic:
  blue: 0
  green: 100
```
Use instead:
```yaml
# one step of at most 20 points per change
name: my-endpoint
traffic:
  blue: 70
  green: 30
```

## Options
- `traffic_step` (int, default 20; `amlforge review --traffic-step N`): the largest move, in
  percentage points, of one deployment's share in one change.

## References
- how-to-safely-rollout-online-endpoints.md (gradual traffic shift, mirror first)
- reference-yaml-endpoint-online.md (`traffic`)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of, endpoints
from amlforge.specs.project import Project


@rule("AML801", "large-traffic-shift", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    step = int(project.option("traffic_step", 20))
    before_eps = endpoints(context.base)
    for key, ep in endpoints(project).items():
        before = before_eps.get(key)
        if before is None or before.spec.traffic is None or ep.spec.traffic is None:
            continue
        old = {k.lower(): (k, v) for k, v in before.spec.traffic.items()}
        new = {k.lower(): (k, v) for k, v in ep.spec.traffic.items()}
        moves = {}
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name, (name, 0))[1], new.get(name, (name, 0))[1]
            if a != b:
                moves[name] = (new.get(name) or old[name])[0], a, b
        if not moves:
            continue
        largest = max(abs(b - a) for _, a, b in moves.values())
        if largest <= step:
            continue
        gainer = max(moves, key=lambda n: moves[n][2] - moves[n][1])
        label, a, b = moves[gainer]
        anchor = ep.at("traffic", new[gainer][0]) if gainer in new else ep.at("traffic")
        shown = ", ".join(f"{n} {x}->{y}" for n, x, y in moves.values())
        nxt = min(a + step, 100) if b > a else max(a - step, 0)
        yield Violation(anchor,
                        f"traffic of endpoint '{ep.spec.name}' shifts by {largest} points in one change ({shown}); "
                        f"the step limit is {step}",
                        f"move at most {step} points per change (e.g. {label} {a}->{nxt}) and check the "
                        "deployment's metrics between steps")
