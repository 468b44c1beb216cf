"""A name the file leaves to the command line (`--name`, `--endpoint-name`).

## What it does
Reports deployments without `name` or `endpoint_name` and endpoints without `name`. The az
CLI accepts them at deploy time (`--name`, `--endpoint-name`), so this is a warning, not an
error; but rules that check a whole endpoint (traffic, quota per endpoint) cannot see such a
deployment. Give the value with `--set name=blue --set endpoint_name=my-endpoint` to lint it
as it will be deployed, or ignore AML109 where names always come from the pipeline.

## Why is this bad?
Forgetting the flag at deploy time fails with "Missing data for required field" (azure-ai-ml
rejects the file on its own), and the cross-file rules cannot check what they cannot see.

## Example
```yaml
instance_type: Standard_DS3_v2
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML109", "deploy-time-value", Severity.WARNING, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if not ep.spec.name:
            yield Violation(ep.at(), "endpoint has no name; it must be given at deploy time (--name)",
                            "add 'name:' or lint with --set name=...")
    for dep in project.deployments:
        missing = [k for k in ("name", "endpoint_name") if not getattr(dep.spec, k)]
        if missing:
            flags = " ".join(f"--set {k}=..." for k in missing)
            yield Violation(
                dep.at(),
                f"deployment has no {' or '.join(missing)}; it must be given at deploy time",
                f"add it to the file, or lint with {flags} to check it as deployed",
            )
