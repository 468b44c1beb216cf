"""Shared CLI plumbing: error display and exit codes. No rule or template logic here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from amlforge.errors import AmlforgeError, UserInputError

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes, documented in the README.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def show_error(error: UserInputError) -> None:
    """Print a user error as 'file:line:col: error: message' plus its hint."""
    color = sys.stderr.isatty()
    where = f"{error.location}: " if error.location else ""
    label = click.style("error", fg="red", bold=True) if color else "error"
    click.echo(f"{where}{label}: {error.message}", err=True)
    if error.hint:
        click.echo(f"  hint: {error.hint}", err=True)


def fail(error: UserInputError) -> None:
    """Print a user error (:func:`show_error`) and exit 2."""
    show_error(error)
    sys.exit(EXIT_USAGE)


def handle_errors(func: F) -> F:
    """Turn amlforge errors into clean messages and exit codes; never a traceback for users."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserInputError as e:
            fail(e)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except AmlforgeError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_USAGE)
        except (BrokenPipeError, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except click.ClickException:
            raise
        except Exception as e:  # a bug in amlforge: say so plainly, keep the details for a report
            import traceback

            click.echo(f"internal error: {e.__class__.__name__}: {e}", err=True)
            click.echo("  this is a bug in amlforge; please report it with the output of AMLFORGE_DEBUG=1", err=True)
            import os

            if os.environ.get("AMLFORGE_DEBUG"):
                traceback.print_exc()
            sys.exit(EXIT_INTERNAL)
        return None

    return wrapper  # type: ignore[return-value]


def parse_pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` option values as pairs, with a clear error for malformed ones."""
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"{option} expects KEY=VALUE, got '{value}'", None,
                                 f"write {option} name=blue")
        if "\n" in rest:
            raise UserInputError(f"{option} value for '{key}' contains a newline", None, "pass a one-line value")
        out.append((key.strip(), rest))
    return out


def pack_options(func: F) -> F:
    """``--policy`` and ``--config`` for commands that show the rules of a run (rules, explain)."""
    func = click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                        help="Configuration file whose 'policies' packs are included "
                             "(default: .amlforge.toml or pyproject.toml of this project).")(func)
    return click.option("--policy", "policies", multiple=True, metavar="PACK",
                        help="Include a policy pack: a YAML file or builtin:NAME (repeatable).")(func)


def run_registry(policies: tuple[str, ...] = (), config_file: Path | None = None) -> Any:
    """The catalog plus the policy packs that ``amlforge lint`` would run here: those of the
    project's configuration (found from the working directory) and ``policies``."""
    from amlforge.policies.engine import configure, run_registry as registry_of

    _, config, _ = configure([Path(".")], config_file=config_file, policies=policies)
    return registry_of(config)
