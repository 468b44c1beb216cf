"""``amlforge data``: what the knowledge catalog holds and how old it is."""

from __future__ import annotations

from pathlib import Path

import click

from amlforge.cli._common import EXIT_OK, handle_errors


@click.command("data")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--knowledge", "knowledge_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Your own knowledge file to show in front of the shipped entries (as 'knowledge' in the "
                   "configuration).")
@handle_errors
def command(fmt: str, knowledge_file: Path | None) -> None:
    """Print the knowledge catalog: image and curated-environment lifecycle, inference server
    defects, MLflow no-code facts and service limits, each with its source, and the catalog's age."""
    import json

    from amlforge.specs.knowledge import load_knowledge, render_text, to_dict

    knowledge = load_knowledge(knowledge_file)
    if fmt == "json":
        click.echo(json.dumps(to_dict(knowledge), indent=2, sort_keys=True))
    else:
        click.echo(render_text(knowledge), nl=False)
    raise SystemExit(EXIT_OK)
