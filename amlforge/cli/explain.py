"""``amlforge explain RULE``: one rule's documentation."""

from __future__ import annotations

import difflib

import click

from amlforge.cli._common import handle_errors
from amlforge.errors import UserInputError


@click.command("explain")
@click.argument("rule")
@handle_errors
def command(rule: str) -> None:
    """Print what RULE (an ID such as AML301, or a name) checks, why, and how to fix it."""
    from amlforge.policies.docs import rule_doc
    from amlforge.policies.registry import load_catalog

    registry = load_catalog()
    found = registry.get(rule)
    if found is None:
        keys = [r.id for r in registry] + [r.name for r in registry]
        close = difflib.get_close_matches(rule.upper() if rule[:3].lower() == "aml" else rule, keys, n=3)
        raise UserInputError(f"no rule '{rule}'", None,
                             f"did you mean {', '.join(close)}?" if close else "list the rules with: amlforge rules")
    click.echo(rule_doc(found), nl=False)
