"""``amlforge schema``: the JSON Schema of amlforge.yaml."""

from __future__ import annotations

import click

from amlforge.cli._common import handle_errors


@click.command("schema")
@handle_errors
def command() -> None:
    """Print the JSON Schema of amlforge.yaml (published as amlforge.schema.json), for editors."""
    from amlforge.specs.project_spec import schema_text

    click.echo(schema_text(), nl=False)
