"""``amlforge init [DIR]``: a starter project that generates and lints clean."""

from __future__ import annotations

from pathlib import Path

import click

from amlforge.cli._common import handle_errors


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=Path("."), required=False)
@click.option("--name", default=None, help="Endpoint name (default: from the folder name).")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@handle_errors
def command(folder: Path, name: str | None, force: bool) -> None:
    """Scaffold amlforge.yaml, a scoring script, a pinned conda file and a tiny model in FOLDER."""
    from amlforge.generators.scaffold import init_project

    written = init_project(folder, name=name, force=force)
    for path in written:
        click.echo(f"created {path}", err=True)
    import shlex

    spec, out = shlex.quote(str(folder / "amlforge.yaml")), shlex.quote(str(folder / "generated"))
    click.echo(f"next: amlforge generate {spec} -o {out}", err=True)
