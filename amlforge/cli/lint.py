"""``amlforge lint PATH...``: pre-deploy checks of az-ml YAML."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import emit_reports, exit_with, handle_errors, parse_output_formats, parse_pairs, report_options
from amlforge.reporters import FORMATS


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: warning, or the config).")
@click.option("--select", multiple=True, help="Only these rule IDs, prefixes or names (repeatable, or comma list).")
@click.option("--ignore", multiple=True, help="Skip these rule IDs, prefixes or names.")
@click.option("--profile", type=click.Choice(["dev", "test", "prod"]), default=None,
              help="Profile whose rules apply (prod adds high-availability and security rules).")
@click.option("--set", "overrides", multiple=True, metavar="[KIND:]KEY=VALUE",
              help="Set a field as az ml --set does, in every file whose kind has it (endpoint_name: deployments only); KIND (endpoint, deployment, environment, model) picks one kind: --set deployment:name=blue.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Fill the placeholder NAME ({{NAME}}, <NAME>, ${NAME}, $(NAME), ...) in the text before parsing.")
@click.option("--parameters", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Parameter values of ARM, Bicep or Terraform templates (parameters JSON, .bicepparam, .tfvars; "
                   "default: each template's own <name>.parameters.json, <name>.bicepparam or terraform.tfvars).")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Project root; referenced paths outside it are reported.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file (default: .amlforge.toml or pyproject.toml [tool.amlforge]).")
@click.option("--quota", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Quota figures (YAML) for the quota rules; default: the documented limits.")
@click.option("--policy", "policies", multiple=True, metavar="PACK",
              help="Policy pack: a YAML file or builtin:NAME, e.g. builtin:production (repeatable; adds to "
                   "'policies' in the configuration). See docs/policy-packs.md.")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="Accept the findings recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(path_type=Path), default=None,
              help="Record the current findings as the baseline and exit 0.")
@click.option("--skip-unknown", is_flag=True, default=False,
              help="Skip named files that are not az-ml YAML (for pre-commit, which passes every changed YAML).")
@click.option("--verbose", "-v", is_flag=True, default=False,
              help="Also list, on standard error, the files read and skipped as not az-ml, with the reason, "
                   "and the values known only at run time (Python, notebooks), which no rule checks.")
@report_options(FORMATS, "amlforge")
@handle_errors
def command(paths: tuple[Path, ...], fail_on: str | None, select: tuple[str, ...],
            ignore: tuple[str, ...], profile: str | None, overrides: tuple[str, ...],
            variables: tuple[str, ...], parameters: Path | None, root: Path | None, config_file: Path | None,
            quota: Path | None, policies: tuple[str, ...], baseline: Path | None, write_baseline: Path | None,
            skip_unknown: bool, verbose: bool, output_formats: tuple[str, ...], output: Path | None, color: str,
            quiet: int, exit_zero: bool) -> None:
    """Lint az-ml online endpoint, deployment and environment YAML (or ARM, Bicep and Terraform azapi files) before deploying.

    PATHS are files or folders (default: the current folder). Exit codes: 0 clean (a folder
    with no az-ml files warns), 1 findings at or above --fail-on (0 with --exit-zero; a file
    that does not parse is a finding), 2 bad usage (a named path that does not exist, a bad
    option or configuration).
    """
    from amlforge.policies.config import Baseline
    from amlforge.policies.engine import lint_paths
    from amlforge.reporters import render

    outputs = parse_output_formats(output_formats, FORMATS, output)
    split = lambda values: [v.strip() for value in values for v in value.split(",") if v.strip()]  # noqa: E731
    report = lint_paths(
        list(paths), root=root, config_file=config_file, select=split(select), ignore=split(ignore),
        fail_on=fail_on, profile=profile, baseline=baseline, quota=quota,
        overrides=parse_pairs(overrides, "--set"), variables=dict(parse_pairs(variables, "--var")),
        skip_unknown=skip_unknown, policies=policies, parameters=parameters,
    )
    if verbose:
        for shown, why in report.skipped:
            click.echo(f"skipped {shown}: {why}", err=True)
        for doc in report.project.documents if report.project is not None else ():
            for path, why in doc.source.unknown.items():  # values a reader could not know statically
                where = ".".join(str(p) for p in path) or "(document)"
                click.echo(f"unknown {doc.source.locate(path)}: {where}: {why}; no rule checks it", err=True)
    for note in report.notes if quiet < 2 else ():
        click.echo(f"warning: {note}", err=True)
    if write_baseline is not None:
        from amlforge.generators.writer import write_atomic

        write_atomic(write_baseline, Baseline.render(report.findings))
        click.echo(f"wrote {len(report.findings)} findings to {write_baseline}", err=True)
        sys.exit(0)
    emit_reports(report, outputs, render, color=color, quiet=quiet)
    exit_with(report.exit_code, exit_zero)
