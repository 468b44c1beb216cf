"""A new environment rolled out in place: the environment changes but the deployment name does not.

## What it does
In `amlforge review`, reports a deployment (same endpoint, same name) whose `environment`
changes: another registered environment or version, a changed inline environment (image, conda
file, build), or a changed conda file or Docker build context. It is a warning when the
deployment serves live traffic (or when the change does not say), information at 0 %.

## Why is this bad?
A new environment means a new image build and new package versions under the same model and
scoring script. Applied in place, an image that fails to build (ImageBuildFailure) or a package
that breaks the model at load time (ResourceNotReady) hits the deployment that serves traffic;
the update may roll back, but callers see the failed instances first. A new deployment keeps
the old environment serving until the new one has proved itself.

## Example
```yaml
# blue.yml under review (the base had azureml:sklearn-env:6)
name: blue
endpoint_name: my-endpoint
environment: azureml:sklearn-env:7
instance_type: Standard_F4s_v2
instance_count: 3
```
Use instead:
```yaml
# green.yml, a new deployment with the new environment
name: green
endpoint_name: my-endpoint
environment: azureml:sklearn-env:7
instance_type: Standard_F4s_v2
instance_count: 3
```

## References
- how-to-safely-rollout-online-endpoints.md
- how-to-troubleshoot-online-endpoints.md (ImageBuildFailure, ResourceNotReady)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.review._context import changed_in_place, environment_change
from amlforge.specs.project import Project


@rule("AML807", "environment-changed-in-place", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    for after, change, live in changed_in_place(project, environment_change):
        name = after.spec.name
        serving = (f"the instances that serve {live}% of live traffic" if live else
                   "the instances that serve its callers" if live is None else "its instances (0% live traffic now)")
        anchor = after.at("environment") if after.at("environment").spelled_out else after.at("name")
        yield Violation(anchor,
                        f"deployment '{name}' changes its environment in place ({change}); a failed image build or "
                        f"package conflict hits {serving}",
                        f"build the new environment into a new deployment next to '{name}' and shift traffic to it "
                        "once it is healthy",
                        severity=Severity.INFO if live == 0 else None)
