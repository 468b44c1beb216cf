"""An endpoint name the service rejects.

## What it does
Checks endpoint names: 3 to 32 characters, a letter first, then letters, digits and dashes,
ending with a letter or digit (`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`). Deployments'
`endpoint_name` is checked too. Consecutive dashes are reported as a warning: the docs say
"single dashes" although the SDK accepts them.

## Why is this bad?
The az CLI rejects the endpoint ("String does not match expected pattern."); a deployment's
`endpoint_name` that breaks the rules can never match an endpoint.

## Example
```yaml
name: My_Endpoint!
```
Use instead:
```yaml
name: my-endpoint
```
"""

from collections.abc import Iterator

from amlforge.policies.naming._names import name_problem
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML601", "invalid-endpoint-name", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if ep.spec.name:
            yield from _check(ep.at("name"), ep.spec.name)
    for dep in project.deployments:
        if dep.spec.endpoint_name:
            yield from _check(dep.at("endpoint_name"), dep.spec.endpoint_name)


def _check(anchor, name: str) -> Iterator[Violation]:  # noqa: ANN001
    problem = name_problem(name)
    if problem:
        severity = Severity.WARNING if problem.startswith("has consecutive") else None
        yield Violation(anchor, f"endpoint name '{name}' {problem}",
                        "use 3-32 letters, digits and single dashes, starting with a letter", severity=severity)
