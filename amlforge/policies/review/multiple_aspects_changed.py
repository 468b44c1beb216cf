"""An update that changes several aspects of one deployment at once.

## What it does
In `amlforge review`, lists what changes in each deployment that exists on both sides (same
endpoint, same name): model, environment, code, instance type, scale, request settings, probes,
environment variables and other settings. Files the deployment names count too: a changed
score.py changes the code, a changed conda file the environment, changed model files the model.
It reports deployments where more than `max_aspects_per_update` aspects (default 1) change.

## Why is this bad?
An update replaces the deployment's containers with all changes at once. When it fails
(ResourceNotReady, ImageBuildFailure, a slower model hitting the probes) the logs rarely say
which change was to blame, and rolling back reverts the good changes with the bad one. One
aspect per update, or the new version in a new deployment behind a traffic split, keeps each
failure attributable.

## Example
```yaml
# blue.yml under review: new model, new image and new SKU in one update
name: blue
endpoint_name: my-endpoint
model: azureml:iris:4
environment: azureml:sklearn-env:7
instance_type: Standard_F8s_v2
instance_count: 3
```
Use instead:
```yaml
# the new version as a new deployment; shift traffic to it gradually
name: green
endpoint_name: my-endpoint
model: azureml:iris:4
environment: azureml:sklearn-env:7
instance_type: Standard_F8s_v2
instance_count: 3
```

## Options
- `max_aspects_per_update` (int, default 1): how many aspects may change in one update.

## References
- how-to-safely-rollout-online-endpoints.md (blue/green deployments)
- how-to-troubleshoot-online-endpoints.md (failures of an update)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import base_of, changed_aspects, listing, pairs
from amlforge.specs.project import Project


@rule("AML805", "multiple-aspects-changed", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    context = base_of(project)
    if context is None:
        return
    most = int(project.option("max_aspects_per_update", 1))
    for before, after in pairs(context, project):
        aspects = changed_aspects(context.base, before, project, after)
        if len(aspects) <= most:
            continue
        name = after.spec.name
        yield Violation(after.at("name"),
                        f"deployment '{name}' changes {listing(aspects)} in one update; if it fails, the logs will not "
                        "say which change broke it, and a rollback reverts all of them",
                        f"change one aspect per update, or deploy the new version as a new deployment next to '{name}' "
                        "and shift traffic to it")
