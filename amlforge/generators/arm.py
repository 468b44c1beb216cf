"""ARM JSON: ``arm/azuredeploy.json`` and ``arm/azuredeploy.parameters.json``.

Deploy with::

    az deployment group create -g <resource group> -f arm/azuredeploy.json -p @arm/azuredeploy.parameters.json

The template's resources and their order are described in :mod:`amlforge.generators.resources`.
Literal strings that look like ARM expressions (``[...]``) are escaped (``[[...]``), keys as well
as values (ARM evaluates expressions in property names too), so no text from the spec is ever
evaluated by ARM.
"""

from __future__ import annotations

import json
from typing import Any

from amlforge.generators._render import ArmNames, Concat, Expr, Param, ResourceRef, arm_str, render
from amlforge.generators.inputs import ARM_DIR, Inputs
from amlforge.generators.resources import NESTED_DEPLOYMENT_API, Resource, Template, TrafficStep, build_template

TEMPLATE_FILE = f"{ARM_DIR}/azuredeploy.json"
PARAMETERS_FILE = f"{ARM_DIR}/azuredeploy.parameters.json"
TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"


class ArmWriter:
    """Pretty JSON (two-space indent) of a value tree whose strings are ARM literals or expressions."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.names = ArmNames(template.names())

    def json(self, value: Any, indent: int = 0) -> str:
        """``value`` as JSON text, continuing at ``indent`` spaces."""
        pad = " " * (indent + 2)
        if isinstance(value, dict):
            if not value:
                return "{}"
            # ARM evaluates property names as well as values: keys are escaped like literals
            items = [f"{pad}{arm_str(str(k))}: {self.json(v, indent + 2)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
        if isinstance(value, (list, tuple)):
            if not value:
                return "[]"
            return "[\n" + ",\n".join(pad + self.json(v, indent + 2) for v in value) + "\n" + " " * indent + "]"
        if isinstance(value, Expr):
            return self.names.value(value)
        return arm_str(value)

    def name(self, resource: Resource) -> str:
        """The resource's ARM name: ``<workspace>/<segment>/<segment>``."""
        return self.names.value(Concat((Param("workspaceName"), "/" + "/".join(resource.segments))))

    def depends_on(self, resource: Resource) -> list[ResourceRef]:
        """``dependsOn``: the ids of the resources it waits for."""
        return [ResourceRef(s) for s in self.template.dependencies(resource)]

    def step_depends_on(self, step: TrafficStep) -> list[ResourceRef]:
        """``dependsOn`` of a traffic step: the endpoint's deployments."""
        return [ResourceRef(s) for s in step.after]


def render_arm_template(inputs: Inputs, template: Template | None = None) -> str:
    """``arm/azuredeploy.json``."""
    tpl = template or build_template(inputs)
    writer = ArmWriter(tpl)
    text = render("arm/azuredeploy.json.j2", tpl=tpl, arm=writer, schema=TEMPLATE_SCHEMA,
                  nested_api=NESTED_DEPLOYMENT_API)
    json.loads(text)  # a template bug must never produce a file ARM cannot read
    return text


def render_arm_parameters(inputs: Inputs) -> str:
    """``arm/azuredeploy.parameters.json``: the workspace and its region from the spec's target."""
    target = inputs.spec.target
    text = render("arm/azuredeploy.parameters.json.j2", schema=PARAMETERS_SCHEMA,
                  values={"workspaceName": target.workspace, "location": target.region})
    json.loads(text)
    return text


def generate_arm(inputs: Inputs, template: Template | None = None) -> dict[str, str]:
    """The ARM files: relative path -> text."""
    return {TEMPLATE_FILE: render_arm_template(inputs, template), PARAMETERS_FILE: render_arm_parameters(inputs)}


__all__ = ["PARAMETERS_FILE", "TEMPLATE_FILE", "generate_arm", "render_arm_parameters", "render_arm_template"]
