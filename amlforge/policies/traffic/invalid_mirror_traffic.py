"""Mirror (shadow) traffic the service does not accept.

## What it does
Checks `mirror_traffic` of an endpoint against the documented rules: at most 50%, exactly
one target deployment, the target receives no live traffic, and only on managed endpoints.
Entries with 0% are ignored (azure-ai-ml drops them before sending).

## Why is this bad?
The service rejects the endpoint update (BadArgument) when mirror traffic exceeds 50%, names
several deployments, or targets a deployment that also has live traffic; Kubernetes online
endpoints do not support mirroring at all. azure-ai-ml checks none of these, so the file
passes the CLI and fails in Azure.

## Example
```yaml
name: my-endpoint
traffic:
  blue: 100
mirror_traffic:
  blue: 60
```
Use instead:
```yaml
name: my-endpoint
traffic:
  blue: 100
mirror_traffic:
  green: 10
```

## References
- reference-yaml-endpoint-online.md `mirror_traffic` (≤ 50, one key, managed only, target not live) and the azure-ai-ml 1.35.2 loaders (load_online_endpoint/load_online_deployment).
- `how-to-safely-rollout-online-endpoints.md`; bicep-types `mirrorTraffic` ("sum to utmost 50").
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import live_targets
from amlforge.specs.project import Project

MAX_MIRROR_PERCENT = 50


@rule("AML304", "invalid-mirror-traffic", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        mirror = {k: v for k, v in (ep.spec.mirror_traffic or {}).items() if v > 0}
        if not mirror:
            continue
        if ep.spec.kind == "kubernetes":
            yield Violation(ep.at("mirror_traffic"),
                            f"mirror_traffic is set on Kubernetes endpoint '{ep.spec.name}'; "
                            "mirroring is supported on managed online endpoints only",
                            "remove mirror_traffic, or test the candidate deployment with the "
                            "azureml-model-deployment header", key=True)
            continue
        if len(mirror) > 1:
            yield Violation(ep.at("mirror_traffic"),
                            f"mirror_traffic names {len(mirror)} deployments ({', '.join(mirror)}); "
                            "it can copy traffic to exactly one", "keep one mirror target", key=True)
        live = live_targets(ep.spec.traffic)
        for key, value in mirror.items():
            if value > MAX_MIRROR_PERCENT:
                yield Violation(ep.at("mirror_traffic", key),
                                f"mirror traffic for '{key}' is {value}%, above the {MAX_MIRROR_PERCENT}% maximum",
                                f"set {key} to at most {MAX_MIRROR_PERCENT}")
            if key.lower() in live:
                yield Violation(ep.at("mirror_traffic", key),
                                f"'{key}' is the mirror target but also receives {live[key.lower()]}% of live traffic; "
                                "a mirror target must have 0% live traffic",
                                "mirror to a deployment without live traffic, or drop the mirror", key=True)
