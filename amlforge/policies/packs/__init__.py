"""Policy packs: organisation rules as YAML data, validated against a published JSON Schema.

A pack is a YAML file (or ``builtin:<name>``, shipped in ``builtin/``) of rules that select
resources and assert conditions on their fields; see ``docs/policy-packs.md`` and the schema
``policy-pack.schema.json`` next to this module (``python -m amlforge.policies.packs schema``
prints it). Each pack rule becomes an ordinary :class:`~amlforge.policies.registry.Rule` in a
*run's* registry (:func:`registry_with_packs`), never in the global catalog, so that select,
ignore, severity overrides, suppressions, baselines and every reporter treat it like a
built-in rule, and one process can lint with different packs in turn.

This package is imported by the catalog loader; keep it light (jsonschema is imported only when
a pack is loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from amlforge.errors import UserInputError
from amlforge.policies.packs._loader import (
    BUILTIN_DIR,
    BUILTIN_PREFIX,
    SCHEMA_PATH,
    builtin_names,
    load_pack,
    resolve,
    schema,
)
from amlforge.policies.packs._model import Pack, PackRule
from amlforge.policies.registry import Registry, RegistryError, Rule, Severity


def load_packs(refs: Sequence[str], base_dir: Path | None = None) -> list[Pack]:
    """Load packs in order; the same pack named twice is loaded once.

    Raises:
        UserInputError: a pack is invalid, or two packs define the same rule ID or name.
    """
    packs: list[Pack] = []
    seen: set[str] = set()
    owners: dict[str, tuple[Pack, PackRule]] = {}
    names: dict[str, tuple[Pack, PackRule]] = {}
    for ref in refs:
        path, _, _ = resolve(ref, base_dir)
        key = str(path.resolve()) if path.exists() else str(path)
        if key in seen:
            continue
        seen.add(key)
        pack = load_pack(ref, base_dir)
        for pr in pack.rules:
            if pr.id in owners:
                other, first = owners[pr.id]
                raise UserInputError(
                    f"rule ID {pr.id} is defined by two policy packs: '{other.name}' ({first.at}) and "
                    f"'{pack.name}'", pr.at, "give each rule of your packs its own ID")
            if pr.name in names:
                other, first = names[pr.name]
                raise UserInputError(
                    f"rule name '{pr.name}' is used by two policy packs: '{other.name}' ({first.at}) and "
                    f"'{pack.name}'", pr.at, "give each rule of your packs its own name")
            owners[pr.id] = (pack, pr)
            names[pr.name] = (pack, pr)
        packs.append(pack)
    return packs


def rule_doc(pack: Pack, pr: PackRule) -> str:
    """Documentation of a pack rule, in the catalog's docstring shape (``amlforge explain``, SARIF help)."""
    import yaml

    summary = (pr.description.strip().splitlines() or [pr.message])[0]
    body = [summary, "", "## What it does",
            f"Rule of the policy pack `{pack.name}` ({pack.ref}, {pr.at}).", "", "Selects:", "```yaml",
            yaml.safe_dump(pr.raw.get("select", {}), sort_keys=False).rstrip(), "```", "Asserts:", "```yaml",
            yaml.safe_dump(pr.raw.get("assert", {}), sort_keys=False).rstrip(), "```", "",
            "## Why is this bad?", pr.description.strip() or pack.description.strip() or summary]
    if pr.docs:
        body += ["", "## References", f"- {pr.docs}"]
    return "\n".join(body) + "\n"


def pack_rules(pack: Pack) -> list[Rule]:
    """The pack's rules as catalog :class:`Rule` objects with check functions."""
    from amlforge.policies.packs._evaluate import check_for

    return [
        Rule(pr.id, pr.name, Severity(pr.severity), (), pack.version or "pack", f"pack:{pack.ref}",
             rule_doc(pack, pr), check=check_for(pr), profiles=pr.select.profiles,
             options={"pack": pack.name, "docs": pr.docs, "defined_at": str(pr.at)})
        for pr in pack.rules
    ]


def registry_with_packs(base: Registry, refs: Sequence[str], base_dir: Path | None = None) -> Registry:
    """A new registry: every rule of ``base`` plus the rules of the packs (``base`` is not changed).

    Raises:
        UserInputError: an invalid pack, or a pack rule that clashes with another rule.
    """
    packs = load_packs(refs, base_dir)
    registry = Registry()
    for r in base:
        registry.add(r)
    for pack in packs:
        for pr, r in zip(pack.rules, pack_rules(pack)):
            clash = base.get(r.name)
            if clash is not None:
                raise UserInputError(f"rule name '{r.name}' is already the name of {clash.id}",
                                     pr.at, "pick another name for the pack rule")
            try:
                registry.add(r)
            except RegistryError as e:
                raise UserInputError(str(e), pr.at, "see docs/policy-packs.md") from None
    return registry


__all__ = [
    "BUILTIN_DIR",
    "BUILTIN_PREFIX",
    "SCHEMA_PATH",
    "Pack",
    "PackRule",
    "builtin_names",
    "load_pack",
    "load_packs",
    "pack_rules",
    "registry_with_packs",
    "resolve",
    "rule_doc",
    "schema",
]
