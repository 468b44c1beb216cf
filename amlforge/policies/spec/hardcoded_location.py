"""A template resource whose region is written as a literal.

## What it does
Reports an online endpoint or deployment in a template (ARM, Bicep, Terraform azapi) whose
`location` is a literal region name rather than a parameter or the resource group's or
workspace's region.

## Why is this bad?
An online endpoint must be in its workspace's region. A literal region breaks the template for
every other workspace (the deployment fails with a location mismatch), and is the usual reason
a template "works in dev, fails in prod".

## Example
```yaml
{"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
 "location": "westeurope"}
```
Use instead:
```yaml
{"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
 "location": "[parameters('location')]"}
```
"""

from collections.abc import Iterator

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML114", "hardcoded-location", Severity.WARNING, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for loaded in [*project.endpoints, *project.deployments]:
        literal = loaded.doc.facts.get("literal_location")
        if literal is None:
            continue
        line, col, region = literal
        yield Violation(Location(loaded.doc.display, line, col),
                        f"the region of {loaded.label} is written as '{region}': the template only works for "
                        "workspaces in that region",
                        "take the region from a parameter (defaulting to the resource group's location)")
