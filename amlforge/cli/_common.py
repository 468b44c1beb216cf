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
    from amlforge.reporters._escape import MAX_MESSAGE_CHARS, escape_text

    color = use_color("auto", sys.stderr)
    where = f"{escape_text(str(error.location))}: " if error.location else ""
    label = click.style("error", fg="red", bold=True) if color else "error"
    click.echo(f"{where}{label}: {escape_text(error.message, MAX_MESSAGE_CHARS)}", err=True, color=color)
    if error.hint:
        click.echo(f"  hint: {escape_text(error.hint, MAX_MESSAGE_CHARS)}", err=True)


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
            from amlforge.reporters._escape import escape_text

            click.echo(f"error: {escape_text(e)}", err=True)
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


# ---------------------------------------------------------------------------------------------
# Terminal and CI conventions shared by the report commands (lint, review): colour, several
# reports in one run, quiet levels and --exit-zero.


def use_color(choice: str, stream: Any = None) -> bool:
    """Whether to colour output on ``stream`` (stdout by default).

    ``--color always|never`` decides; with ``auto`` (the default), ``NO_COLOR`` (any non-empty
    value, https://no-color.org) turns colour off, ``FORCE_COLOR`` (non-empty) turns it on, and
    otherwise only a terminal gets colour.
    """
    import os

    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def report_options(formats: tuple[str, ...], what: str) -> Callable[[F], F]:
    """``--output-format/--format``, ``-o/--output``, ``--color``, ``-q/--quiet`` and ``--exit-zero``."""

    def decorate(func: F) -> F:
        options = [
            click.option("--output-format", "--format", "output_formats", multiple=True, metavar="FORMAT[=PATH]",
                         help=f"Report format: {', '.join(formats)} (default text). Repeat it to write several "
                              f"reports in one run; FORMAT=PATH writes that one to a file "
                              f"(e.g. --output-format text --output-format sarif={what}.sarif)."),
            click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
                         help="Write the report without a =PATH to this file instead of standard output."),
            click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
                         show_default=True,
                         help="Colour severities and rule IDs of text output: auto colours a terminal only, "
                              "and follows NO_COLOR and FORCE_COLOR."),
            click.option("-q", "--quiet", count=True,
                         help="-q: only the findings (no summary line); -qq: nothing on standard output, "
                              "only the exit code (reports given a =PATH are still written)."),
            click.option("--exit-zero", is_flag=True,
                         help="Exit 0 even when there are findings (usage errors still exit 2)."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def parse_output_formats(values: tuple[str, ...], formats: tuple[str, ...], output: Path | None) -> list[tuple[str, Path | None]]:
    """``FORMAT[=PATH]`` values as (format, path or None for standard output).

    Raises:
        UserInputError: an unknown format, or more than one report for standard output.
    """
    import difflib

    out: list[tuple[str, Path | None]] = []
    for value in values or ("text",):
        fmt, sep, path = value.partition("=")
        fmt = fmt.strip().lower()
        if fmt not in formats:
            close = difflib.get_close_matches(fmt, formats, n=1)
            raise UserInputError(f"unknown output format '{fmt}'", None,
                                 (f"did you mean '{close[0]}'? " if close else "") + "formats: " + ", ".join(formats))
        if sep and not path.strip():
            raise UserInputError(f"--output-format {value}: the path after '=' is empty", None,
                                 f"write --output-format {fmt}=report.{fmt}")
        out.append((fmt, Path(path) if sep else None))
    to_stdout = [fmt for fmt, path in out if path is None]
    if len(to_stdout) > 1:
        raise UserInputError(f"{len(to_stdout)} reports ({', '.join(to_stdout)}) would all go to standard output",
                             None, f"give all but one a file: --output-format {to_stdout[-1]}=report.{to_stdout[-1]}")
    if output is not None:
        out = [(fmt, output if path is None else path) for fmt, path in out]
    return out


def emit_reports(report: Any, outputs: list[tuple[str, Path | None]], render: Callable[..., str], *,
                 color: str, quiet: int) -> None:
    """Render ``report`` once per requested format and write each to its file or to standard output.

    ``render(report, fmt, color=bool)`` renders one format. Text to a terminal is coloured per
    :func:`use_color`; files never are. ``quiet`` 1 drops the text summary line, 2 writes
    nothing to standard output.
    """
    from amlforge.generators.writer import write_atomic

    for fmt, path in outputs:
        if path is None and quiet >= 2:
            continue
        colored = path is None and fmt == "text" and use_color(color)
        text = render(report, fmt, color=colored)
        if fmt == "text" and quiet >= 1:
            from amlforge.reporters.text_report import summary

            lines = text.splitlines(keepends=True)
            text = "".join(lines[:-len(summary(report).splitlines())])  # the summary (and its [*] fixable line)
        if path is not None:
            write_atomic(path, text)
        else:
            click.echo(text, nl=False, color=colored)  # click strips styles off a pipe unless told


def exit_with(code: int, exit_zero: bool) -> None:
    """Exit with ``code``; ``--exit-zero`` turns findings (1) into 0 but keeps usage errors (2)."""
    sys.exit(0 if exit_zero and code == EXIT_FINDINGS else code)


def _set_sdk_logging(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    from amlforge.integrations.azure import sdk_logging

    sdk_logging(value or 0)
    return value


def verbose_option(func: F) -> F:
    """``-v/--verbose`` for the commands that call Azure: the Azure SDK's own log lines are
    hidden unless it is given (``-vv`` adds their debug log)."""
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_set_sdk_logging,
                        help="Show the Azure SDK's own log output (-vv: its debug log too).")(func)
