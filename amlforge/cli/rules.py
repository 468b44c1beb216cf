"""``amlforge rules``: list the catalog."""

from __future__ import annotations

import json

import click

from amlforge.cli._common import handle_errors


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--area", default=None, help="Only one area (input, spec, capacity, traffic, environment, ...).")
@handle_errors
def command(fmt: str, area: str | None) -> None:
    """List every rule: ID, name, default severity and what it prevents."""
    from amlforge.policies.registry import load_catalog

    rules = [r for r in load_catalog() if area is None or r.area == area]
    if fmt == "json":
        click.echo(json.dumps([{"id": r.id, "name": r.name, "severity": r.severity.value, "area": r.area,
                                "prevents": list(r.prevents), "summary": r.summary, "profiles": list(r.profiles)}
                               for r in rules], indent=2))
        return
    width = max((len(r.name) for r in rules), default=10)
    for r in rules:
        prevents = ", ".join(r.prevents)
        click.echo(f"{r.id}  {r.name:<{width}}  {r.severity.value:<7}  {r.summary}" + (f"  [{prevents}]" if prevents else ""))
    click.echo(f"{len(rules)} rules")
