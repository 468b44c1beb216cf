"""Bicep: ``bicep/main.bicep`` and the traffic module ``bicep/endpoint-traffic.bicep``.

The same resources as the ARM template (:mod:`amlforge.generators.resources`), written the
Bicep way: parameters with descriptions, the workspace as an ``existing`` resource, children
with ``parent:``, dependencies inferred from references (``dependsOn`` only where nothing
refers to the resource waited for), and the traffic step as a module, because a Bicep file
cannot declare the same resource twice. Deploy with::

    az deployment group create -g <resource group> -f bicep/main.bicep -p workspaceName=<ws>
"""

from __future__ import annotations

from typing import Any

from amlforge.generators._render import Expr, bicep_expr, bicep_key, bicep_str, render
from amlforge.generators.inputs import BICEP_DIR, Inputs
from amlforge.generators.resources import TRAFFIC_MODULE, Template, build_template

MAIN_FILE = f"{BICEP_DIR}/main.bicep"
TRAFFIC_FILE = f"{BICEP_DIR}/{TRAFFIC_MODULE}"


class BicepWriter:
    """Bicep text of a value tree: objects, arrays, literals and expressions."""

    def value(self, value: Any, indent: int = 0) -> str:
        """``value`` as Bicep, continuing at ``indent`` spaces."""
        pad = " " * (indent + 2)
        if isinstance(value, dict):
            if not value:
                return "{}"
            lines = [f"{pad}{bicep_key(str(k))}: {self.value(v, indent + 2)}" for k, v in value.items()]
            return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
        if isinstance(value, (list, tuple)):
            if not value:
                return "[]"
            return "[\n" + "\n".join(pad + self.value(v, indent + 2) for v in value) + "\n" + " " * indent + "]"
        if isinstance(value, Expr):
            return bicep_expr(value)
        return bicep_str(value)


def render_bicep(inputs: Inputs, template: Template | None = None) -> str:
    """``bicep/main.bicep``."""
    tpl = template or build_template(inputs)
    return render("bicep/main.bicep.j2", tpl=tpl, bicep=BicepWriter(), module=TRAFFIC_MODULE)


def render_bicep_traffic_module(inputs: Inputs) -> str:
    """``bicep/endpoint-traffic.bicep``: the endpoint's second PUT, with traffic."""
    return render("bicep/endpoint-traffic.bicep.j2", api_version=inputs.spec.target.api_version)


def generate_bicep(inputs: Inputs, template: Template | None = None) -> dict[str, str]:
    """The Bicep files: relative path -> text."""
    tpl = template or build_template(inputs)
    files = {MAIN_FILE: render_bicep(inputs, tpl)}
    if tpl.traffic:
        files[TRAFFIC_FILE] = render_bicep_traffic_module(inputs)
    return files


__all__ = ["MAIN_FILE", "TRAFFIC_FILE", "generate_bicep", "render_bicep", "render_bicep_traffic_module"]
