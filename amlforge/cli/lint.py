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
              help="Project root of every file; referenced paths outside it are reported (default: for each "
                   "file, the nearest folder with .git, pyproject.toml, .amlforge.toml or amlforge.yaml).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Configuration file for every file (default: for each file, the nearest .amlforge.toml or "
                   "pyproject.toml with [tool.amlforge]).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out files and folders that match this gitignore-like pattern when walking folders "
                   "(repeatable; adds to the configuration's exclude and extend-exclude, whose defaults are ruff's: "
                   ".git, .venv, node_modules, ...; --show-settings lists them).")
@click.option("--force-exclude", is_flag=True, default=False,
              help="Apply the exclusions to files named on the command line too (for pre-commit).")
@click.option("--show-settings", "show_settings", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="Print the configuration that applies to PATH, where each value comes from, and exit.")
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
@click.option("--fix", is_flag=True, default=False,
              help="Apply the safe fixes in place (atomic writes, repeated until nothing is left to fix), then "
                   "report the findings left.")
@click.option("--unsafe-fixes", is_flag=True, default=False,
              help="With --fix or --diff, apply the unsafe fixes too (they change what is deployed: traffic, "
                   "workers, versions).")
@click.option("--diff", "show_diff", is_flag=True, default=False,
              help="Print the fixes as a unified diff without writing; exit 1 when there is something to fix.")
@click.option("--stdin-filename", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Read the text of this file from standard input (PATH '-'): the path gives the project, its "
                   "configuration and relative references. With --fix the fixed text goes to standard output.")
@report_options(FORMATS, "amlforge")
@handle_errors
def command(paths: tuple[Path, ...], fail_on: str | None, select: tuple[str, ...],
            ignore: tuple[str, ...], profile: str | None, overrides: tuple[str, ...],
            variables: tuple[str, ...], parameters: Path | None, root: Path | None, config_file: Path | None,
            quota: Path | None, policies: tuple[str, ...], baseline: Path | None, write_baseline: Path | None,
            skip_unknown: bool, verbose: bool, output_formats: tuple[str, ...], output: Path | None, color: str,
            quiet: int, exit_zero: bool, fix: bool, unsafe_fixes: bool, show_diff: bool,
            stdin_filename: Path | None, exclude: tuple[str, ...] = (), force_exclude: bool = False,
            show_settings: Path | None = None) -> None:
    """Lint az-ml online endpoint, deployment and environment YAML (or ARM, Bicep and Terraform azapi files) before deploying.

    PATHS are files or folders (default: the current folder), or '-' with --stdin-filename.
    Each file is linted with the configuration and project root nearest to it, as ruff does;
    files of one root form one project. Exit codes: 0 clean (a folder with no az-ml files
    warns), 1 findings at or above --fail-on (0 with --exit-zero; a file that does not parse is
    a finding; with --diff: something to fix), 2 bad usage (a named path that does not exist, a
    bad option or configuration: an unknown key, rule selector or option, or no rule selected).
    """
    from amlforge.policies.config import Baseline
    from amlforge.policies.engine import lint_paths
    from amlforge.reporters import render

    outputs = parse_output_formats(output_formats, FORMATS, output)
    split = lambda values: [v.strip() for value in values for v in value.split(",") if v.strip()]  # noqa: E731
    if show_settings is not None:
        from amlforge.policies.settings import describe

        click.echo(describe(show_settings, root=root, config_file=config_file, select=split(select),
                            ignore=split(ignore), fail_on=fail_on, profile=profile, quota=quota, baseline=baseline,
                            policies=list(policies), exclude=list(exclude)), nl=False)
        sys.exit(0)
    stdin = _read_stdin(paths, stdin_filename)
    options = dict(
        root=root, config_file=config_file, select=split(select), ignore=split(ignore),
        fail_on=fail_on, profile=profile, baseline=baseline, quota=quota,
        overrides=parse_pairs(overrides, "--set"), variables=dict(parse_pairs(variables, "--var")),
        skip_unknown=skip_unknown, policies=policies, parameters=parameters, exclude=list(exclude),
        force_exclude=force_exclude,
    )
    targets = [stdin[0]] if stdin is not None else list(paths)
    if fix or show_diff:
        report = _fix(targets, stdin, options, unsafe_fixes, show_diff)
    else:
        from amlforge.specs.overlay import Overlay

        overlay = Overlay.of_files({stdin[0]: stdin[1]}) if stdin is not None else None
        report = lint_paths(targets, overlay=overlay, **options)
    report.unsafe_fixes = unsafe_fixes
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


def _read_stdin(paths: tuple[Path, ...], stdin_filename: Path | None) -> tuple[Path, str] | None:
    """``(path, text)`` when the file comes from standard input ('-' or --stdin-filename), else None."""
    from amlforge.errors import UserInputError

    dash = [p for p in paths if str(p) == "-"]
    if not dash and stdin_filename is None:
        return None
    if stdin_filename is None:
        raise UserInputError("reading from standard input ('-') needs --stdin-filename PATH", None,
                             "name the file the text belongs to, e.g. --stdin-filename deploy/blue.yml: the path "
                             "gives the project, its configuration and relative references")
    if len(paths) > len(dash):
        raise UserInputError("with --stdin-filename, pass no other PATH than '-'", None,
                             "lint the text from standard input alone, or the files without --stdin-filename")
    from amlforge.specs.loader import display_path
    from amlforge.specs.source import decode_text

    text = decode_text(sys.stdin.buffer.read(), display_path(stdin_filename))
    return stdin_filename, text


def _fix(targets: list[Path], stdin: tuple[Path, str] | None, options: dict, unsafe: bool, show_diff: bool):  # noqa: ANN202
    """--fix / --diff: apply the fixes in memory; write them, print the diff, or print the fixed stdin text."""
    import os

    from amlforge.policies.fixing import fix_paths

    run = fix_paths(targets, unsafe=unsafe, stdin=stdin, **options)
    report = run.report
    report.fixed = run.applied
    if show_diff:
        click.echo(run.diff(), nl=False)
        n = run.applied
        click.echo(f"Would fix {n} finding{'s' if n != 1 else ''}." if n else "No fixes to apply.", err=True)
        sys.exit(1 if run.files else 0)
    if stdin is not None:
        fixed = run.files.get(Path(os.path.abspath(stdin[0])))
        sys.stdout.write(fixed.after if fixed is not None else stdin[1])
        sys.stdout.flush()
        from amlforge.reporters import render

        report.unsafe_fixes = unsafe
        click.echo(render(report, "text"), nl=False, err=True)
        sys.exit(report.exit_code)
    run.write()
    return report
