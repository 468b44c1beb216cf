"""``amlforge explain RULE``: one rule's documentation."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from amlforge.cli._common import handle_errors, pack_options, run_registry
from amlforge.errors import UserInputError


@click.command("explain")
@click.argument("rule")
@pack_options
@handle_errors
def command(rule: str, policies: tuple[str, ...], config_file: Path | None) -> None:
    """Print what RULE (an ID such as AML301, or a name) checks, why, and how to fix it.

    Rules of the policy packs in the project's configuration and of --policy are found too.
    """
    from amlforge.policies.docs import rule_doc

    registry = run_registry(policies, config_file)
    found = registry.get(rule)
    if found is None:
        keys = [r.id for r in registry] + [r.name for r in registry]
        close = difflib.get_close_matches(rule.upper() if rule[:3].lower() == "aml" else rule, keys, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "list the rules with: amlforge rules"
        if rule.upper().startswith("AML9"):
            hint = "AML900-AML999 are policy pack rules: pass the pack with --policy, or run in the project that configures it"
        raise UserInputError(f"no rule '{rule}'", None, hint)
    click.echo(rule_doc(found), nl=False)
