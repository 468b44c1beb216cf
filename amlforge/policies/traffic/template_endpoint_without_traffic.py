"""An endpoint applied as a whole resource (ARM, Bicep, Terraform) without `traffic`.

## What it does
Reports an online endpoint declared in a template (an ARM or Bicep resource, a Terraform
`azapi_resource`) whose last declaration has no `traffic`, while deployments of that endpoint
are part of the same run.

## Why is this bad?
A template PUTs the endpoint in full: a property left out is reset. Every re-deployment of
the template sets the traffic of all the endpoint's deployments to 0 %, so the endpoint stops
serving (HTTP 404 "No valid deployments to route to") until someone sets traffic again by hand.
az-ml YAML does not have this problem: `az ml online-endpoint update` keeps the traffic it is
not told about.

## Example
```yaml
{"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
 "name": "[concat(parameters('ws'), '/my-ep')]",
 "properties": {"authMode": "Key"}}
```
Use instead:
```yaml
{"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
 "name": "[concat(parameters('ws'), '/my-ep')]",
 "properties": {"authMode": "Key", "traffic": {"blue": 100}}}
```
(in a second declaration once the deployments exist, as `amlforge generate` writes it)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML319", "template-endpoint-without-traffic", Severity.WARNING, prevents=("HTTP 404",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if not ep.doc.facts.get("replaces") or "traffic" in ep.doc.data or ep.doc.source.is_unknown(("traffic",)):
            continue
        # its own deployments: an ARM and a Bicep form of one template in one run are two endpoints
        deployments = [d for d in project.deployments if project.endpoint_of(d) is ep]
        if not deployments:
            continue
        names = ", ".join(sorted(d.spec.name or "?" for d in deployments))
        yield Violation(ep.at("name"),
                        f"endpoint '{ep.spec.name}' is applied as a whole resource without traffic: every deployment "
                        f"of the template resets the traffic of {names} to 0 %",
                        "declare the endpoint again after its deployments, with properties.traffic (as amlforge "
                        "generate writes it), or set traffic in the endpoint resource")
