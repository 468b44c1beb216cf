"""A deployment that gets no live or mirror traffic while other deployments of its endpoint do.

## What it does
When the endpoint file of the run splits its traffic (the total is 100), reports each
deployment of that endpoint in the run that has no share of `traffic` and is not the
`mirror_traffic` target. Information only: staging a deployment at 0% and testing it with
the `azureml-model-deployment` header is the documented blue/green workflow.

## Why is this bad?
It may not be. But such a deployment serves only requests that name it in the
`azureml-model-deployment` header, while its instances are billed and hold quota. A
deployment left at 0% after a rollout, or one whose traffic key was misspelt, is easy to miss.

## Example
```yaml
# endpoint.yml; the run also holds deployments blue and green
name: my-endpoint
traffic:
  blue: 100
```
Use instead:
```yaml
name: my-endpoint
traffic:
  blue: 90
  green: 10
```

## References
- how-to-manage-quotas.md "Request headers" (`azureml-model-deployment` bypasses traffic rules).
- `how-to-safely-rollout-online-endpoints.md` (test a deployment at 0% with the header, then shift traffic).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import endpoint_groups, listing, live_targets
from amlforge.specs.project import Project


@rule("AML305", "deployment-without-traffic", Severity.INFO)
def check(project: Project) -> Iterator[Violation]:
    for ep, group in endpoint_groups(project):
        traffic = ep.spec.traffic
        if not traffic or sum(traffic.values()) != 100:
            continue  # no split in the file, or an invalid one (AML301)
        live = live_targets(traffic)
        mirrored = live_targets(ep.spec.mirror_traffic)
        for dep in group.deployments:
            name = dep.spec.name
            if not name or name.lower() in live or name.lower() in mirrored:
                continue
            yield Violation(
                dep.at("name"),
                f"deployment '{name}' gets no traffic from endpoint '{ep.spec.name}' ({listing(traffic)}); "
                f"it serves only requests with the header azureml-model-deployment: {name}",
                f"give {name} a share of the endpoint's traffic once tested, or delete it when the rollout is done",
            )
