"""A traffic percentage below 0 or above 100.

## What it does
Reports each `traffic` value that is negative or above 100, and each negative
`mirror_traffic` value (the 50% cap on mirror traffic is AML304).

## Why is this bad?
A share is a percentage of requests: the service rejects values outside 0..100
(BadArgument). azure-ai-ml checks only that the total is at most 100, so `blue: 110` with
`green: -10` passes the CLI, adds up to 100, and fails in Azure.

## Example
```yaml
name: my-endpoint
traffic:
  blue: 110
  green: -10
```
Use instead:
```yaml
name: my-endpoint
traffic:
  blue: 100
  green: 0
```

## References
- reference-yaml-endpoint-online.md `traffic` and `mirror_traffic`; bicep-types `OnlineEndpointProperties.traffic` (percentages).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML303", "traffic-value-out-of-range", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        for key, value in (ep.spec.traffic or {}).items():
            if value < 0:
                yield Violation(ep.at("traffic", key), f"traffic for '{key}' is {value}%; a share cannot be negative",
                                f"set {key} to a value between 0 and 100")
            elif value > 100:
                yield Violation(ep.at("traffic", key), f"traffic for '{key}' is {value}%, above 100%",
                                f"set {key} to at most 100")
        for key, value in (ep.spec.mirror_traffic or {}).items():
            if value < 0:
                yield Violation(ep.at("mirror_traffic", key),
                                f"mirror traffic for '{key}' is {value}%; a share cannot be negative",
                                f"set {key} to a value between 0 and 50")
