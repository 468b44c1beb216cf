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
(in a second declaration once the deployments exist, as `amlforge generate` writes it when the
spec sets traffic)

In an `amlforge.yaml` spec, an endpoint with deployments and no `traffic` is reported too: the
ARM, Bicep and Terraform that `amlforge generate` writes from it declare the endpoint without
traffic, with the same effect. The az-ml YAML it writes is not affected (`az ml
online-endpoint update` keeps the traffic it is not told about).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.readers.azml_yaml import PROJECT_SPEC
from amlforge.specs.project import Anchor, Document, Project


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
                        "generate writes it from a spec with traffic), or set traffic in the endpoint resource")
    for doc in project.documents:
        if doc.kind == PROJECT_SPEC and doc.spec is not None:
            yield from _spec_without_traffic(doc)


def _spec_without_traffic(doc: Document) -> Iterator[Violation]:
    """Endpoints of an amlforge.yaml spec with deployments and no traffic plan."""
    for name, ep in doc.spec.sorted_endpoints():
        if ep.traffic is not None or not ep.deployments:
            continue
        first = sorted(ep.deployments)[0]
        yield Violation(Anchor(doc, ("endpoints", name)),
                        f"endpoint '{name}' sets no traffic: the ARM, Bicep and Terraform that amlforge generate writes "
                        f"from this spec reset the traffic of {', '.join(sorted(ep.deployments))} to 0 % on every "
                        "deployment",
                        f"add the traffic plan to the endpoint, e.g. traffic: {{{first}: 100}} (the az-ml YAML "
                        "target is not affected)", key=True)
