"""``amlforge server``: the language server for editors (docs/editors.md)."""

from __future__ import annotations

import click

from amlforge.cli._common import handle_errors


@click.command("server")
@click.option("--stdio", is_flag=True, default=True, hidden=True,
              help="Talk LSP over standard input and output (the only transport; accepted for editors that pass it).")
@handle_errors
def command(stdio: bool) -> None:
    """Run the amlforge language server over standard input and output.

    Editors start it and talk the Language Server Protocol: diagnostics on open, change and
    save with the rules and configuration of `amlforge lint`, hover, completion and code
    actions (fixes, suppressions). See docs/editors.md for VS Code, Neovim and Helix.
    """
    try:
        import pygls  # noqa: F401
    except ImportError:
        from amlforge.errors import UserInputError

        raise UserInputError("amlforge server needs pygls, which is not installed", None,
                             "install the server extra: pip install 'amlforge[server]'") from None
    from amlforge.server.lsp import main

    main()
