"""A deployment name the service rejects.

## What it does
Checks deployment names with the same rules as endpoint names: 3 to 32 characters, a letter
first, letters, digits and dashes, ending with a letter or digit.

## Why is this bad?
The SDK refuses the deployment before sending it ("The name for a deployment must ...").

## Example
```yaml
name: Blue_Dep!
endpoint_name: my-endpoint
```
Use instead:
```yaml
name: blue-dep
endpoint_name: my-endpoint
```
"""

from collections.abc import Iterator

from amlforge.policies.naming._names import name_problem
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML602", "invalid-deployment-name", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        name = dep.spec.name
        if not name:
            continue
        problem = name_problem(name)
        if problem:
            severity = Severity.WARNING if problem.startswith("has consecutive") else None
            yield Violation(dep.at("name"), f"deployment name '{name}' {problem}",
                            "use 3-32 letters, digits and single dashes, starting with a letter", severity=severity)
