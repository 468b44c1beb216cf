"""``amlforge rules``: list the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import click

from amlforge.cli._common import handle_errors, pack_options, run_registry


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--area", default=None, help="Only one area (input, spec, capacity, traffic, environment, ...; user: policy packs).")
@pack_options
@handle_errors
def command(fmt: str, area: str | None, policies: tuple[str, ...], config_file: Path | None) -> None:
    """List every rule: ID, name, default severity and what it prevents.

    The policy packs of the project's configuration ('policies') and of --policy are listed
    with the catalog, as lint runs them.
    """
    rules = [r for r in run_registry(policies, config_file) if area is None or r.area == area]
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
