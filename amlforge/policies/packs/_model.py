"""The loaded form of a policy pack: plain frozen structs, each remembering where it was written.

Not a rule module (the catalog loader skips ``_`` modules). :mod:`._loader` builds these from
validated YAML; :mod:`._evaluate` runs them against a :class:`~amlforge.specs.project.Project`.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from amlforge._records import EqualByKey
from amlforge.errors import Location

#: Comparison operators of a field test, in the order they are evaluated and documented.
OPERATORS = ("required", "forbidden", "equals", "not_equals", "in", "not_in", "matches", "not_matches",
             "min", "max")
#: Operators that hold for an absent value (they only forbid something).
NEGATIVE = frozenset({"forbidden", "not_equals", "not_in", "not_matches"})
COMBINATORS = ("all", "any", "not")
RESOURCES = ("endpoint", "deployment", "environment")
KINDS = ("managed", "kubernetes")
#: Placeholders a message or hint may use.
PLACEHOLDERS = ("value", "name", "field", "resource", "kind", "endpoint", "expected")
#: IDs the built-in packs use; user packs may not.
BUILTIN_IDS = range(990, 1000)


class FieldTest(Struct, frozen=True):
    """``{field: a.b.c, <operator>: operand, ...}``: every operator must hold for the field.

    Attributes:
        field: The dotted path as written.
        path: Its segments (``*`` matches every key or list item).
        ops: ``(operator, operand)`` pairs in :data:`OPERATORS` order; regexes are compiled.
        at: Where the test is written in the pack.
    """

    field: str
    path: tuple[str, ...]
    ops: tuple[tuple[str, Any], ...]
    at: Location


class AllOf(Struct, frozen=True):
    items: tuple[Condition, ...]
    at: Location


class AnyOf(Struct, frozen=True):
    items: tuple[Condition, ...]
    at: Location


class Not(Struct, frozen=True):
    item: Condition
    at: Location


Condition = FieldTest | AllOf | AnyOf | Not


class Exclude(Struct, frozen=True):
    """Resources a rule leaves out: any criterion that matches excludes."""

    kinds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()


class Selector(Struct, frozen=True):
    """Which resources a rule checks: every given criterion must match."""

    resources: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    profiles: tuple[str, ...] = ()
    where: Condition | None = None
    exclude: Exclude | None = None


class PackRule(EqualByKey, Struct, frozen=True):
    """One rule of a pack."""

    id: str
    name: str
    severity: str
    message: str
    hint: str
    description: str
    docs: str
    select: Selector
    condition: Condition
    at: Location
    #: The rule as written (for messages); not part of what the rule is.
    raw: dict[str, Any] = field(default_factory=dict)

    def _key(self) -> tuple:
        return (self.id, self.name, self.severity, self.message, self.hint, self.description, self.docs,
                self.select, self.condition, self.at)


class Pack(Struct, frozen=True):
    """A loaded, validated policy pack."""

    name: str
    ref: str
    path: str
    description: str
    version: str
    builtin: bool
    rules: tuple[PackRule, ...]


__all__ = [
    "BUILTIN_IDS",
    "COMBINATORS",
    "KINDS",
    "NEGATIVE",
    "OPERATORS",
    "PLACEHOLDERS",
    "RESOURCES",
    "AllOf",
    "AnyOf",
    "Condition",
    "Exclude",
    "FieldTest",
    "Not",
    "Pack",
    "PackRule",
    "Selector",
]
