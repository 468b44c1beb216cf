"""A new model rolled out in place: the model changes but the deployment name does not.

## What it does
In `amlforge review`, reports a deployment (same endpoint, same name) whose `model` changes: a
different registered model or version, a different inline model, or different files under the
inline model's local path. It is a warning when the deployment serves live traffic (or when the
change does not say), information when the endpoint gives it 0 %.

## Why is this bad?
Updating the model of a live deployment replaces it on the instances that serve its traffic:
every caller of that deployment gets the new model at once, with no canary, no mirror and no
side-by-side comparison, and a bad model is found by its users. The safe rollout puts the new
model in a new deployment, mirrors or sends it a small share of traffic, and promotes it.

## Example
```yaml
# blue.yml under review (the base had azureml:iris:3); blue serves 100 %
name: blue
endpoint_name: my-endpoint
model: azureml:iris:4
instance_type: Standard_F4s_v2
instance_count: 3
```
Use instead:
```yaml
# green.yml, a new deployment for the new model; give it 10 % of traffic first
name: green
endpoint_name: my-endpoint
model: azureml:iris:4
instance_type: Standard_F4s_v2
instance_count: 3
```

## References
- how-to-safely-rollout-online-endpoints.md (blue/green, mirrored traffic)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import changed_in_place, model_change
from amlforge.specs.project import Project


@rule("AML806", "model-changed-in-place", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    for after, change, live in changed_in_place(project, model_change):
        name = after.spec.name
        serving = (f"the {live}% of live traffic it serves" if live else
                   "all its callers" if live is None else "its callers (0% live traffic now)")
        yield Violation(after.at("model"),
                        f"deployment '{name}' changes its model in place ({change}); the new model reaches "
                        f"{serving} at once, with no canary",
                        f"deploy the new model as a new deployment next to '{name}', give it a small share of traffic "
                        "(or mirror traffic to it), then promote it",
                        severity=Severity.INFO if live == 0 else None)
