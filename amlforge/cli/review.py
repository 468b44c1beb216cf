"""``amlforge review --base REF [PATH...]``: what a change to the configuration breaks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import emit_reports, exit_with, handle_errors, parse_output_formats, parse_pairs, report_options
from amlforge.review import FORMATS


@click.command("review")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--base", "base", required=True, metavar="REF",
              help="Git branch, tag or commit to compare with (main, origin/main, HEAD~1).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity of a new finding or risky change that makes the exit code 1.")
@click.option("--select", multiple=True, help="Only these rule IDs, prefixes or names (AML8 = risky changes only).")
@click.option("--ignore", multiple=True, help="Skip these rule IDs, prefixes or names.")
@click.option("--profile", type=click.Choice(["dev", "test", "prod"]), default=None,
              help="Profile whose rules apply.")
@click.option("--policy", "policies", multiple=True, metavar="PACK",
              help="Policy pack: a YAML file or builtin:NAME (repeatable; adds to 'policies' in the configuration).")
@click.option("--traffic-step", type=click.IntRange(1, 100), default=None,
              help="Largest traffic move, in percentage points, of one deployment in one change (default 20).")
@click.option("--quota-threshold", type=click.FloatRange(0, 100), default=None,
              help="Report quota use that rises to this percent of a limit or more (default 80).")
@click.option("--set", "overrides", multiple=True, metavar="[KIND:]KEY=VALUE",
              help="Set a field as az ml --set does, in every file whose kind has it (endpoint_name: deployments only); KIND (endpoint, deployment, environment, model) picks one kind: --set deployment:name=blue.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Fill the placeholder NAME ({{NAME}}, <NAME>, ${NAME}, $(NAME), ...) in the text before parsing.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None, help="Project root.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file (default: .amlforge.toml or pyproject.toml [tool.amlforge]).")
@click.option("--quota", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Quota figures (YAML) for the quota rules.")
@report_options(FORMATS, "review")
@handle_errors
def command(paths: tuple[Path, ...], base: str, fail_on: str | None, select: tuple[str, ...],
            ignore: tuple[str, ...], profile: str | None, policies: tuple[str, ...], traffic_step: int | None,
            quota_threshold: float | None, overrides: tuple[str, ...], variables: tuple[str, ...],
            root: Path | None, config_file: Path | None, quota: Path | None, output_formats: tuple[str, ...],
            output: Path | None, color: str, quiet: int, exit_zero: bool) -> None:
    """Lint the work tree and the configuration at REF with the same options, and report only what is new.

    Prints risky changes (traffic shifts, removed deployments, create-only SKU changes, models or
    environments changed in place, rising quota use), new findings and fixed findings; findings that
    both sides have are not shown. Exit codes: 0 nothing new at --fail-on, 1 new findings or risky
    changes at --fail-on, 2 bad input (not a git repository, unknown REF, bad policy pack).
    """
    from amlforge.review import review_paths
    from amlforge.review.render import render

    outputs = parse_output_formats(output_formats, FORMATS, output)
    split = lambda values: [v.strip() for value in values for v in value.split(",") if v.strip()]
    options: dict[str, object] = {}
    if traffic_step is not None:
        options["traffic_step"] = traffic_step
    if quota_threshold is not None:
        options["quota_threshold"] = quota_threshold
    review = review_paths(
        list(paths), base=base, root=root, config_file=config_file, select=split(select), ignore=split(ignore),
        fail_on=fail_on, profile=profile, quota=quota, overrides=parse_pairs(overrides, "--set"),
        variables=dict(parse_pairs(variables, "--var")), policies=policies, options=options,
    )
    emit_reports(review, outputs, render, color=color, quiet=quiet)
    exit_with(review.exit_code, exit_zero)
