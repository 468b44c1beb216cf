"""``amlforge quota PATHS...``: the per-family vCPU quota a set of deployments needs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, handle_errors, verbose_option


@click.command("quota")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--quota", "quota_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Quota figures (YAML: families, endpoints, deployments); default: the configuration's "
                   "quota file, else the documented limits.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Project root of every file (default: for each file, the nearest folder with .git, "
                   "pyproject.toml, .amlforge.toml or amlforge.yaml).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file for every file (default: for each file, the nearest .amlforge.toml or "
                   "pyproject.toml with [tool.amlforge]).")
@click.option("--live", is_flag=True,
              help="Read the Azure Machine Learning usages and limits per VM family from Azure instead of a quota "
                   "file (needs amlforge[azure] and credentials; see docs/azure.md).")
@click.option("--subscription", envvar="AZURE_SUBSCRIPTION_ID", show_envvar=True, metavar="ID",
              help="With --live: the subscription id.")
@click.option("--region", metavar="REGION", help="With --live: the region, such as westeurope.")
@click.option("--save", "save_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --live: also write the figures as a quota file, for offline use with --quota FILE.")
@click.option("--arm-endpoint", metavar="URL",
              help="With --live: Azure Resource Manager address (env AMLFORGE_ARM_ENDPOINT).")
@click.option("--max-retries", type=click.IntRange(0, 20), default=3, show_default=True,
              help="With --live: retries after throttling, a 5xx or a broken connection.")
@verbose_option
@handle_errors
def command(paths: tuple[Path, ...], quota_file: Path | None, fmt: str, root: Path | None,
            config_file: Path | None, live: bool = False, subscription: str | None = None,
            region: str | None = None, save_file: Path | None = None, arm_endpoint: str | None = None,
            max_retries: int = 3) -> None:
    """Print the vCPU quota per VM family that the deployments under PATHS reserve.

    Each managed deployment reserves ceil(1.2 x instance_count) x vCPUs of its VM family
    (the 20% upgrade reserve; some large GPU sizes are exempt). The table sums them across all
    endpoints and compares them with the quota file, and counts endpoints and deployments
    against their limits. Files are grouped into projects as 'amlforge lint' groups them (the
    nearest configuration and root of each file); projects whose configurations name different
    quota files get a table each (JSON: {"tables": [...]}). Exit codes: 0 within quota, 1 over
    a limit, 2 bad input.

    With --live --subscription ID --region R the per-family figures come from Azure (the
    Machine Learning usages API); --save FILE writes them in the quota file format for CI.
    """
    import json

    from amlforge.policies.capacity._quota import quota_for_paths, render_text

    live_file = None
    if live or save_file is not None:
        from amlforge.errors import UserInputError

        if not live:
            raise UserInputError("--save writes live figures: add --live", None,
                                 "amlforge quota --live --subscription ID --region R --save quota.yaml")
        if quota_file is not None:
            raise UserInputError("--live and --quota both give quota figures: pass one", None,
                                 "drop --quota to read Azure, or drop --live to use the file")
        from amlforge.integrations.azure import require

        require("azure.core", "azure.mgmt.core", command="quota --live")
        from amlforge.integrations.azure.quota import LiveQuotaFile

        live_file = LiveQuotaFile.read(subscription, region, arm_endpoint=arm_endpoint, max_retries=max_retries,
                                       save=save_file)
        quota_file = live_file.path
    try:
        run = quota_for_paths(list(paths), quota=quota_file, root=root, config_file=config_file)
    finally:
        if live_file is not None:
            live_file.cleanup()
    if live_file is not None:  # one set of figures for every project: one table
        run.tables = [(roots, live_file.relabel(table)) for roots, table in run.tables]
        for note in live_file.notes(run.table):
            click.echo(f"note: {note}", err=True)
    for problem in run.problems:
        label = "error" if problem.fatal else "warning"
        click.echo(f"{problem.location}: {label}: {problem.message} (not counted)", err=True)
    if run.problems:
        click.echo("  hint: run 'amlforge lint' on these files; the table leaves them out", err=True)
    from amlforge.specs.loader import display_path

    several = len(run.tables) > 1
    if fmt == "json":
        if several:
            data = {"tables": [{"projects": [display_path(r) for r in roots], **table.to_dict()}
                               for roots, table in run.tables], "over_quota": run.over}
        else:
            data = run.table.to_dict()
        click.echo(json.dumps(data, indent=2))
    else:
        for i, (roots, table) in enumerate(run.tables):
            if several:
                click.echo(("\n" if i else "") + "Projects: " + ", ".join(display_path(r) for r in roots))
            click.echo(render_text(table), nl=False)
    if run.fatal:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if run.over else EXIT_OK)
