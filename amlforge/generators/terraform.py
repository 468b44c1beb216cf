"""Terraform with the ``azapi`` provider: ``terraform/main.tf``.

The azurerm provider has no online endpoint resource, so the resources of
:mod:`amlforge.generators.resources` are written as ``azapi_resource`` blocks (azapi 2.x: ``body``
is an HCL object, not ``jsonencode``), one per asset version, endpoint and deployment, and the
traffic step as an ``azapi_update_resource`` of the endpoint that waits for its deployments.
The workspace is ``var.workspace_id`` (its resource id) and the region ``var.location``; the
upload URIs of local folders are variables defaulting to the workspace's datastore. Apply with::

    terraform init && terraform apply -var workspace_id=<workspace resource id> -var location=<region>

Strings are HCL-escaped (``"``, ``\\``, line breaks, and the ``$``/``%`` of ``${``/``%{`` as
``\\u0024``/``\\u0025``), so no value from the spec is ever evaluated by Terraform.
"""

from __future__ import annotations

from typing import Any

from amlforge._regex import LazyPattern
from amlforge.generators._render import (
    Builtin,
    Concat,
    Expr,
    Param,
    ResourceRef,
    WorkspaceChildId,
)
from amlforge.generators.inputs import Inputs
from amlforge.generators.resources import ML, Template, build_template

TERRAFORM_DIR = "terraform"
MAIN_FILE = f"{TERRAFORM_DIR}/main.tf"
AZAPI_VERSION = "~> 2.0"
_IDENT = LazyPattern(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def hcl_str(value: Any) -> str:
    """An HCL string literal that Terraform reads back as exactly ``value`` (no interpolation)."""
    text = str(value)
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1:i + 2]
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif ch in "$%" and nxt in ("{", ch):
            # "${" / "%{" would start a template: a unicode escape is literal in every HCL reader
            # (python-hcl2 cannot lex the "$${" escape next to another "$")
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def hcl_key(key: str) -> str:
    """An object key: bare when it is an identifier, else quoted."""
    return key if _IDENT.match(key) and key not in ("true", "false", "null") else hcl_str(key)


def _uri_var(name: str) -> str:
    return "var." + name


class HclWriter:
    """HCL text of a value tree whose leaves are literals or template expressions."""

    def __init__(self, template: Template) -> None:
        self.template = template

    def expr(self, value: Expr) -> str:
        if isinstance(value, Param):
            if value.name == "location":
                return "var.location"
            if value.name == "workspaceName":
                return "local.workspace_name"
            return f"local.{value.name}"
        if isinstance(value, Builtin):
            return {"resourceGroup().name": "local.resource_group_name",
                    "subscription().subscriptionId": "local.subscription_id",
                    "resourceGroup().location": "var.location"}[value.text]
        if isinstance(value, ResourceRef):
            return f"azapi_resource.{value.symbol}.id"
        if isinstance(value, WorkspaceChildId):
            return self.expr(Concat(("${var.workspace_id}", "/" + "/".join(value.segments)))).strip()
        if isinstance(value, Concat):
            out = []
            for part in value.parts:
                if isinstance(part, str) and part == "${var.workspace_id}":
                    out.append(part)
                elif isinstance(part, str):
                    out.append(hcl_str(part)[1:-1])
                else:
                    out.append("${" + self.expr(part) + "}")
            return '"' + "".join(out) + '"'
        raise TypeError(f"no HCL form for {value!r}")  # pragma: no cover - a generator bug

    def value(self, value: Any, indent: int = 0) -> str:
        pad = " " * (indent + 2)
        if isinstance(value, dict):
            if not value:
                return "{}"
            lines = [f"{pad}{hcl_key(str(k))} = {self.value(v, indent + 2)}" for k, v in value.items()]
            return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
        if isinstance(value, (list, tuple)):
            if not value:
                return "[]"
            return "[\n" + ",\n".join(pad + self.value(v, indent + 2) for v in value) + ",\n" + " " * indent + "]"
        if isinstance(value, Expr):
            return self.expr(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if value is None:
            return "null"
        return hcl_str(value)


def _parent_id(tpl: Template, res: Any, writer: HclWriter) -> str:
    """``parent_id``: the workspace, an asset container below it, or the endpoint."""
    if res.parent == "ws":
        return "var.workspace_id"
    declared = {r.symbol for r in tpl.resources}
    if res.parent in declared:
        return f"azapi_resource.{res.parent}.id"
    container = next(c for c in tpl.containers if c.symbol == res.parent)
    kind = container.type.rsplit("/", 1)[-1]
    return writer.expr(Concat(("${var.workspace_id}", f"/{kind}/{container.name}")))


def render_terraform(inputs: Inputs, template: Template | None = None) -> str:
    """``terraform/main.tf``."""
    tpl = template or build_template(inputs)
    w = HclWriter(tpl)
    out: list[str] = [
        f"# Generated by amlforge from {inputs.spec_name}: edit the spec, not this file.",
        "# Upload the asset folders to the URIs of the *Uri variables first (see docs/generate.md), then:",
        "#   terraform init && terraform apply -var workspace_id=<workspace resource id> -var location=<region>",
        "terraform {",
        "  required_providers {",
        "    azapi = {",
        '      source  = "Azure/azapi"',
        f"      version = {hcl_str(AZAPI_VERSION)}",
        "    }",
        "  }",
        "}",
        "",
        'variable "workspace_id" {',
        "  type        = string",
        '  description = "Resource id of the Azure Machine Learning workspace."',
        "}",
        "",
        'variable "location" {',
        "  type        = string",
        '  description = "Region of the workspace; every resource is created there."',
        "}",
        "",
    ]
    uri_params = [p for p in tpl.params if p.name not in ("workspaceName", "location")]
    for p in uri_params:
        out += [f'variable "{p.name}" {{', "  type        = string", f"  description = {hcl_str(p.description)}",
                "  default     = null", "}", ""]
    out += ["locals {",
            '  workspace_parts     = split("/", var.workspace_id)',
            "  subscription_id     = local.workspace_parts[2]",
            "  resource_group_name = local.workspace_parts[4]",
            "  workspace_name      = local.workspace_parts[8]"]
    for p in uri_params:
        out.append(f"  {p.name} = coalesce(var.{p.name}, {w.value(p.default, 2)})")
    out += ["}", ""]
    for res in tpl.resources:
        body = dict(res.body)
        out.append(f'resource "azapi_resource" "{res.symbol}" {{')
        out.append(f"  type      = {hcl_str(res.type + '@' + tpl.api_version)}")
        out.append(f"  parent_id = {_parent_id(tpl, res, w)}")
        out.append(f"  name      = {hcl_str(res.segments[-1])}")
        if "location" in body:
            out.append(f"  location  = {w.value(body.pop('location'), 2)}")
        identity = body.pop("identity", None)
        if identity is not None:
            out.append("  identity {")
            out.append(f"    type = {hcl_str(identity['type'])}")
            if identity.get("userAssignedIdentities"):
                ids = ", ".join(hcl_str(k) for k in identity["userAssignedIdentities"])
                out.append(f"    identity_ids = [{ids}]")
            out.append("  }")
        if "tags" in body:
            out.append(f"  tags = {w.value(body.pop('tags'), 2)}")
        out.append(f"  body = {w.value(body, 2)}")
        deps = [s for s in res.after]
        if deps:
            out.append("  depends_on = [" + ", ".join(f"azapi_resource.{s}" for s in deps) + "]")
        out.append("}")
        out.append("")
    for step in tpl.traffic:
        props = {k: v for k, v in step.body["properties"].items() if k in ("traffic", "mirrorTraffic")}
        out.append("# Traffic can only name deployments that exist: update the endpoint once they do.")
        out.append(f'resource "azapi_update_resource" "{step.symbol}" {{')
        out.append(f"  type        = {hcl_str(f'{ML}/onlineEndpoints@' + tpl.api_version)}")
        out.append(f"  resource_id = azapi_resource.{step.endpoint_symbol}.id")
        out.append(f"  body = {w.value({'properties': props}, 2)}")
        out.append("  depends_on = [" + ", ".join(f"azapi_resource.{s}" for s in step.after) + "]")
        out.append("}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def generate_terraform(inputs: Inputs, template: Template | None = None) -> dict[str, str]:
    """The Terraform files: relative path -> text."""
    return {MAIN_FILE: render_terraform(inputs, template)}


__all__ = ["MAIN_FILE", "TERRAFORM_DIR", "generate_terraform", "hcl_key", "hcl_str", "render_terraform"]
