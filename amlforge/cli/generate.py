"""``amlforge generate SPEC... -o DIR``: az-ml YAML, ARM, Bicep and Dockerfiles from amlforge.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import EXIT_USAGE, handle_errors, show_error
from amlforge.errors import UserInputError


def print_problems(problems: list) -> None:
    """Print located spec problems as ``file:line:col: error: message`` with hints."""
    from amlforge.reporters._escape import escape_finding

    for p in map(escape_finding, problems):
        click.echo(f"{p.location}: error: {p.message}", err=True)
        if p.hint:
            click.echo(f"  hint: {p.hint}", err=True)


@click.command("generate")
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"),
              show_default=True, help="Output folder. A relative folder is always taken from each SPEC's own folder "
              "(not from the current directory), so 'amlforge generate svc/amlforge.yaml -o deploy' writes "
              "svc/deploy; an absolute folder is accepted with one SPEC only.")
@click.option("--only", default=None, metavar="TARGETS",
              help="Comma-separated targets: yaml, arm, bicep, docker, terraform (default: all but terraform).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a unified diff when files on disk are stale.")
@handle_errors
def command(specs: tuple[Path, ...], out_dir: Path, only: str | None, check: bool) -> None:
    """Generate az-ml YAML, ARM, Bicep and Dockerfiles from SPEC (default: amlforge.yaml).

    The generated az-ml YAML is linted first with the project's configuration; errors refuse
    the run and nothing is written. Each SPEC writes into OUTPUT below its own folder (a
    relative -o is taken from the spec's folder, whatever the current directory), so one spec
    or many (a monorepo, or pre-commit passing the changed amlforge.yaml files) give the same
    files; one bad spec does not stop the others. Exit codes: 0 written or up to date, 1
    refused by the lint self-check or stale with --check, 2 bad input (the highest over all SPECs).
    """
    from amlforge.generators.pipeline import parse_targets

    targets = parse_targets(only)
    if len(specs) > 1 and out_dir.is_absolute():
        raise UserInputError("-o is an absolute folder, and several specs would all write into it", None,
                             "pass a relative folder: each spec then writes below its own folder")
    code = 0
    for spec in specs or (Path("amlforge.yaml"),):
        code = max(code, _generate_one(spec, output_folder(spec, out_dir), targets, check, out_dir))
    sys.exit(code)


def output_folder(spec: Path, out_dir: Path) -> Path:
    """Where ``-o out_dir`` puts the files of ``spec``: ``out_dir`` itself when absolute, else
    below the spec's folder (shown relative to the working directory)."""
    import os

    if out_dir.is_absolute():
        return out_dir
    return Path(os.path.normpath(spec.parent / out_dir))


def rerun_command(spec: Path, out_arg: Path, targets: tuple[str, ...] = ()) -> str:
    """The ``amlforge generate`` command that regenerates ``spec``, shell-quoted, that works
    from the working directory (``-o`` is taken from the spec's folder wherever it runs)."""
    import shlex

    from amlforge.generators.pipeline import TARGETS

    words = ["amlforge", "generate", str(spec)]
    if out_arg != Path("generated"):
        words += ["-o", str(out_arg)]
    if targets and tuple(targets) != TARGETS:
        words += ["--only", ",".join(targets)]
    return shlex.join(words)


def _generate_one(spec: Path, out_dir: Path, targets: tuple[str, ...], check: bool, out_arg: Path) -> int:
    """Generate one spec and report it; returns its exit code (user errors are shown, not raised)."""
    from amlforge.generators.pipeline import generate_project
    from amlforge.specs.project_spec import SpecError

    try:
        result = generate_project(spec, out_dir, targets, check=check)
    except SpecError as e:
        print_problems(e.problems)
        return EXIT_USAGE
    except UserInputError as e:
        show_error(e)
        return EXIT_USAGE
    from amlforge.reporters._escape import escape_finding, escape_text

    for note in result.notes:
        click.echo(f"note: {escape_text(note)}", err=True)
    for f in map(escape_finding, result.findings):
        click.echo(f"{f.location}: {f.severity.value} {f.rule} {f.message}")
        if f.hint:
            click.echo(f"  hint: {f.hint}")
    if result.refused:
        errors = sum(1 for f in result.findings if f.fatal or f.severity.value == "error")
        click.echo(f"refused: the generated az-ml YAML of {escape_text(spec)} has {errors} error{'s' if errors != 1 else ''}; "
                   "nothing was written (fix the spec or the files it names)", err=True)
    elif check:
        for rel in result.leftovers:
            click.echo(f"{escape_text(out_dir / rel)}:1:1: error: leftover temporary file of an interrupted "
                       "'amlforge generate'", err=True)
            click.echo("  hint: run amlforge generate again: it removes it", err=True)
        if result.changed or result.removed or result.leftovers:
            # the diff shows user text (and, on the disk side, what someone edited): escaped, line by line
            click.echo("".join(escape_text(line.rstrip("\n")) + "\n" for line in result.diff.splitlines(keepends=True)),
                       nl=False)
            click.echo(f"{len(result.changed) + len(result.removed) + len(result.leftovers)} generated file(s) "
                       f"in {escape_text(out_dir)} are stale: "
                       f"run: {escape_text(rerun_command(spec, out_arg, targets))}", err=True)
        else:
            click.echo(f"{len(result.files)} generated files in {out_dir} are up to date", err=True)
    else:
        unchanged = len(result.files) + 1 - len(result.changed)
        click.echo(f"wrote {len(result.changed)} file(s) to {out_dir} ({unchanged} unchanged"
                   + (f", {len(result.removed)} removed" if result.removed else "")
                   + (f", {len(result.leftovers)} leftover temporary file(s) removed" if result.leftovers else "")
                   + ")", err=True)
    return result.exit_code
