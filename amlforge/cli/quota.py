"""``amlforge quota PATHS...``: the per-family vCPU quota a set of deployments needs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, handle_errors


@click.command("quota")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--quota", "quota_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Quota figures (YAML: families, endpoints, deployments); default: the configuration's "
                   "quota file, else the documented limits.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Project root (where .amlforge.toml or pyproject.toml is looked up).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file (default: .amlforge.toml or pyproject.toml [tool.amlforge]).")
@handle_errors
def command(paths: tuple[Path, ...], quota_file: Path | None, fmt: str, root: Path | None,
            config_file: Path | None) -> None:
    """Print the vCPU quota per VM family that the deployments under PATHS reserve.

    Each managed deployment reserves ceil(1.2 x instance_count) x vCPUs of its VM family
    (the 20% upgrade reserve; some large GPU sizes are exempt). The table sums them across all
    endpoints and compares them with the quota file, and counts endpoints and deployments
    against their limits. Exit codes: 0 within quota, 1 over a limit, 2 bad input.
    """
    import json

    from amlforge.policies.capacity._quota import quota_for_paths, render_text

    run = quota_for_paths(list(paths), quota=quota_file, root=root, config_file=config_file)
    for problem in run.problems:
        label = "error" if problem.fatal else "warning"
        click.echo(f"{problem.location}: {label}: {problem.message} (not counted)", err=True)
    if run.problems:
        click.echo("  hint: run 'amlforge lint' on these files; the table leaves them out", err=True)
    if fmt == "json":
        click.echo(json.dumps(run.table.to_dict(), indent=2))
    else:
        click.echo(render_text(run.table), nl=False)
    if run.fatal:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if run.table.over else EXIT_OK)
