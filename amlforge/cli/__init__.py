"""The ``amlforge`` command line: parse arguments, call one library function, format, exit.

Commands live one per module in this package and are imported only when invoked, so that
``amlforge lint`` does not pay for the imports of ``amlforge lock`` or ``amlforge smoke``.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from amlforge import __version__

# command name -> "module:attribute" of its click command. Keep sorted.
COMMANDS: dict[str, tuple[str, str]] = {
    "azure": ("amlforge.cli.azure", "Validate, what-if and deploy the ARM template through Azure (needs amlforge[azure])."),
    "data": ("amlforge.cli.data", "Show the knowledge catalog (image, environment and server lifecycle) and its age."),
    "explain": ("amlforge.cli.explain", "Show the documentation of one rule."),
    "generate": ("amlforge.cli.generate", "Generate az-ml YAML, ARM, Bicep and Dockerfiles from amlforge.yaml."),
    "import": ("amlforge.cli.import_", "Convert existing az-ml YAML into amlforge.yaml."),
    "init": ("amlforge.cli.init", "Scaffold a starter amlforge project."),
    "lint": ("amlforge.cli.lint", "Lint az-ml YAML and amlforge specs before deploying."),
    "rules": ("amlforge.cli.rules", "List the rule catalog."),
    "lock": ("amlforge.cli.lock", "Pin conda environments with conda-lock."),
    "schema": ("amlforge.cli.schema", "Print the JSON Schema of amlforge.yaml."),
    "server": ("amlforge.cli.server", "Run the language server over stdio, for editors (needs amlforge[server])."),
    "quota": ("amlforge.cli.quota", "Per-family vCPU quota a set of deployments needs."),
    "review": ("amlforge.cli.review", "Report what a change breaks: new findings and risky changes against a git base."),
    "smoke": ("amlforge.cli.smoke", "Run a scoring script in the real inference server before deploying."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        return module.command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        # click suggests close names only for commands it has loaded; ours load lazily
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint} Commands: {', '.join(sorted(COMMANDS))}.")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the short help from COMMANDS so that --help imports no command module.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="amlforge")
def cli() -> None:
    """amlforge: catch Azure ML online endpoint deploy failures before you deploy."""


#: Allocations between two young-generation collections (CPython's default is 700). A command
#: allocates a few hundred thousand container objects while it imports pydantic models and the
#: rule catalog, nearly all alive until it exits; the default made ~80 collections (~13 ms of a
#: one-file lint) that freed almost nothing. mypy raises the threshold for the same reason.
GC_THRESHOLD = (100_000, 50, 100)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    # A command-line process uses no pydantic plugins; looking for them imports
    # importlib.metadata (~10 ms of every start-up).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.set_threshold(*GC_THRESHOLD)
    try:
        cli.main(args=argv, prog_name="amlforge")
    finally:
        # The interpreter's exit runs one last full collection over every object of the
        # process (~30 ms after a lint) to free memory the operating system takes back anyway.
        # Frozen objects are left out of it; atexit handlers and module teardown still run.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
