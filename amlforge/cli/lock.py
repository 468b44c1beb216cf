"""``amlforge lock``: pin conda environments with conda-lock.

Exit codes: 0 all locked (or fresh with ``--check``); 1 ``--check`` found a missing or
stale lock; 2 bad input or a failed lock (the cause is printed, never a traceback);
3 a bug in amlforge (see :func:`amlforge.cli._common.handle_errors`); 130 interrupted.

The logic lives in :mod:`amlforge.integrations.condalock`; this module parses options,
prints progress (stderr) and results (stdout), and picks the exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from amlforge.cli._common import handle_errors
from amlforge.errors import AmlforgeError

EXIT_OK, EXIT_STALE, EXIT_ERROR = 0, 1, 2


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_error(exc: BaseException, name: str = "") -> None:
    """Print an error like the other commands: ``file:line:col: error: cause``, then the
    hint and (for solver failures) the solver's own explanation, indented."""
    err = sys.stderr
    location = getattr(exc, "location", None)
    where = f"{location}: " if location else (f"{name}: " if name else "")
    err.write(f"{where}error: {getattr(exc, 'message', str(exc))}\n")
    if getattr(exc, "hint", ""):
        err.write(f"  hint: {exc.hint}\n")  # type: ignore[attr-defined]
    details = getattr(exc, "details", "")
    if details:
        shown = "\n".join("    " + ln for ln in details.strip().splitlines()[:40])
        err.write(f"  solver said:\n{shown}\n")
    err.flush()


@click.command("lock")
@click.argument("conda_files", nargs=-1, required=True, metavar="CONDA_FILE|YAML|DIR...",
                type=click.Path(path_type=Path))
@click.option("--platform", "-p", "platforms", multiple=True, metavar="P",
              help="conda platform to lock for; repeat for several. [default: linux-64]")
@click.option("--check", is_flag=True,
              help="Do not lock; exit 1 if a lock is missing or stale (for CI).")
@click.option("--solver", default="auto", show_default=True, metavar="auto|embedded|PATH",
              help="Conda solver: a conda/mamba/micromamba from PATH when there is one "
                   "(auto), the built-in py-rattler solver (embedded), or an executable.")
@click.option("--update", "-u", "update", multiple=True, metavar="NAME",
              help="Move NAME to its newest allowed version, keeping the other packages "
                   "pinned; repeat for several.")
@click.option("--channel", "-c", "channels", multiple=True, metavar="URL",
              help="Use this channel instead of the conda file's channels; repeatable. Default: 'channels' of "
                   "the project's [tool.amlforge] configuration when it has them (lint and generate check "
                   "the lock against those too), else the conda file's own.")
@click.option("--force", is_flag=True, help="Re-lock even when the lock is up to date.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@handle_errors
def command(
    conda_files: tuple[Path, ...],
    platforms: tuple[str, ...],
    check: bool,
    solver: str,
    update: tuple[str, ...],
    channels: tuple[str, ...],
    force: bool,
    fmt: str,
) -> None:
    """Pin conda files with conda-lock: given directly, or named by the environments of an
    amlforge.yaml spec, of az-ml environment/deployment YAML files, or of the files in a folder.

    Writes conda-lock.yml (every conda and pip package with hashes) and a pinned
    <name>.lock.yaml next to each conda file. An unchanged environment is not re-locked.
    """
    if check and (update or force):
        raise click.UsageError("--check cannot be combined with --update or --force")
    if not check:  # --check compares files only; locking runs conda-lock and py-rattler
        from amlforge.extras import require_extra

        require_extra("lock", "lock")
    from amlforge.integrations.condalock.discover import conda_files_for

    files = conda_files_for(list(conda_files))
    if channels:
        sys.exit(run(files, platforms=platforms, check=check, solver=solver, update=update, channels=channels,
                     force=force, fmt=fmt))
    # without --channel, each conda file locks with the channels of its project's configuration
    # (channels = [...] in [tool.amlforge]), which lint (AML418) and generate check the lock with
    from amlforge.policies.settings import project_channels

    groups: dict[tuple[str, ...], list[Path]] = {}
    for f in files:
        groups.setdefault(tuple(project_channels(f)), []).append(f)
    sys.exit(max(run(group, platforms=platforms, check=check, solver=solver, update=update, channels=key,
                     force=force, fmt=fmt) for key, group in groups.items()))


def run(
    conda_files: list[Path],
    *,
    platforms: tuple[str, ...] = (),
    check: bool = False,
    solver: str = "auto",
    update: tuple[str, ...] = (),
    channels: tuple[str, ...] = (),
    force: bool = False,
    fmt: str = "text",
) -> int:
    """Run the command; return the exit code. Never raises for user or lock errors."""
    from amlforge.integrations import condalock

    err = sys.stderr
    text = fmt == "text"

    def progress(event: condalock.LockProgress) -> None:
        if event.stage in ("cached", "done", "failed"):
            return  # the result line says it
        err.write(f"{_rel(event.conda_file)}: {event.message}\n")
        err.flush()

    try:
        results = condalock.lock_many(
            conda_files,
            platforms=platforms or condalock.DEFAULT_PLATFORMS,
            solver=solver,
            channel_overrides=list(channels) or None,
            check_only=check,
            update=update,
            force=force,
            on_progress=progress,
        )
    except AmlforgeError as exc:
        if text:
            _print_error(exc)
        else:
            click.echo(json.dumps({"ok": False, "exit_code": EXIT_ERROR, "results": [],
                                   "error": {"type": type(exc).__name__,
                                             "message": str(exc)}}, indent=2))
        return EXIT_ERROR

    code = EXIT_OK
    if any(r.action == "failed" for r in results):
        code = EXIT_ERROR
    elif any(not r.ok for r in results):
        code = EXIT_STALE

    if not text:
        doc: dict[str, Any] = {"ok": code == EXIT_OK, "exit_code": code,
                               "results": [r.to_dict() for r in results]}
        click.echo(json.dumps(doc, indent=2))
        return code

    for r in results:
        name = _rel(r.conda_file)
        if r.action == "failed" and r.error is not None:
            _print_error(r.error, name)
        elif r.action == "checked" and r.status is not None:
            state = r.status.state
            reason = f": {r.status.reason}" if r.status.reason else ""
            click.echo(f"{name}: {state}{reason}")
        else:
            counts = f"{r.count('conda')} conda + {r.count('pip')} pip packages"
            outputs = f"{_rel(r.lockfile)}, {_rel(r.pinned_file)}"
            if r.action == "cached":
                click.echo(f"{name}: up to date ({counts}) -> {outputs}")
            else:
                click.echo(f"{name}: locked {counts} in {r.seconds:.1f} s -> {outputs}")
    err.flush()
    return code
