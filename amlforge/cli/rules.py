"""``amlforge rules``: list the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import click

from amlforge.cli._common import handle_errors, pack_options, run_registry
from amlforge.errors import UserInputError


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
    registry = list(run_registry(policies, config_file))
    areas = sorted({r.area for r in registry})
    if area is not None and area not in areas:
        import difflib

        close = difflib.get_close_matches(area, areas, n=1)
        raise UserInputError(f"--area '{area}' is not an area of the catalog", None,
                             (f"did you mean '{close[0]}'? " if close else "") + "areas: " + ", ".join(areas))
    rules = [r for r in registry if area is None or r.area == area]
    if fmt == "json":
        click.echo(json.dumps([{"id": r.id, "name": r.name, "severity": r.severity.value, "area": r.area,
                                "prevents": list(r.prevents), "summary": r.summary, "profiles": list(r.profiles)}
                               for r in rules], indent=2))
        return
    width = max((len(r.name) for r in rules), default=10)
    for r in rules:
        prevents = ", ".join(r.prevents)
        click.echo(f"{r.id}  {r.name:<{width}}  {r.severity.value:<7}  {r.summary}" + (f"  [{prevents}]" if prevents else ""))
    review = sum(1 for r in rules if r.area == "review")
    split = f" ({len(rules) - review} run by lint, {review} only by review)" if 0 < review < len(rules) else ""
    click.echo(f"{len(rules)} rules{split}")
