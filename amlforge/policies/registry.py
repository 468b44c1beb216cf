"""The rule catalog: one registry of rules with stable IDs, and the types rules produce.

A rule is a module in ``amlforge/policies/<area>/`` whose docstring is its documentation and
which registers one check with :func:`rule`::

    @rule("AML301", "traffic-not-100", Severity.ERROR, prevents=("BadArgument",))
    def check(project: Project) -> Iterator[Violation]:
        ...

Rules the loader reports itself (unreadable files, schema errors) are declared with
:func:`declare` so that they are documented, selectable and suppressible like the others.
"""

from __future__ import annotations

import enum
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import AmlforgeError, Location

if TYPE_CHECKING:
    from amlforge.specs.edits import Fix
    from amlforge.specs.project import Anchor, Project

ID_PATTERN = LazyPattern(r"^AML\d{3}\Z")
NAME_PATTERN = LazyPattern(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
BANNED_NAME_PREFIXES = ("avoid-", "use-", "prefer-", "do-not-", "no-")

#: IDs that were retired; never reuse one. ID -> reason.
RETIRED: dict[str, str] = {}

#: Areas by hundreds, as documented in docs/rules.md.
AREAS = {
    "0": ("input", "Files that cannot be read"),
    "1": ("spec", "Schema and references"),
    "2": ("capacity", "SKU, quota, disk and memory"),
    "3": ("traffic", "Traffic, probes, requests and scaling"),
    "4": ("environment", "Environment and dependency pinning"),
    "5": ("scoring", "Scoring script"),
    "6": ("naming", "Naming"),
    "7": ("security", "Security"),
    "8": ("review", "Risky changes between two commits (amlforge review only)"),
    "9": ("user", "User policy packs"),
}


class Severity(str, enum.Enum):
    """How bad a finding is. Ordered: error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown severity '{value}': use error, warning or info") from None


class Violation(Struct, frozen=True):
    """What a rule yields: where, what is wrong here, and how to fix it.

    Attributes:
        at: A place in a loaded document (preferred) or a location in a referenced file.
        message: What is wrong in this instance ("traffic sums to 90, expected 100").
        hint: Imperative fix ("set green to 10").
        key: Point at the key rather than the value.
        severity: Overrides the rule's severity for this instance.
        fix: The exact edit that resolves it, when there is one (specs/edits.py).
    """

    at: Anchor | Location
    message: str
    hint: str = ""
    key: bool = False
    severity: Severity | None = None
    fix: Fix | None = None

    @property
    def location(self) -> Location:
        if isinstance(self.at, Location):
            return self.at
        return self.at.location(key=self.key)


class Finding(Struct, frozen=True):
    """A located problem, as reporters show it."""

    rule: str
    name: str
    severity: Severity
    location: Location
    message: str
    hint: str = ""
    prevents: tuple[str, ...] = ()
    fatal: bool = False
    fix: Fix | None = None

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.cell, loc.line, loc.column, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form documented in the README (``cell`` only for a notebook cell)."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "hint": self.hint,
            "prevents": list(self.prevents),
            "fix": self.fix.to_dict() if self.fix is not None else None,
        }
        if self.location.cell:
            out["cell"] = self.location.cell
        return out


Check = Callable[["Project"], Iterable[Violation]]


class Rule(Struct, frozen=True):
    """Metadata of one rule and its check (``None`` for rules the loader reports)."""

    id: str
    name: str
    severity: Severity
    prevents: tuple[str, ...]
    since: str
    module: str
    doc: str
    check: Check | None = None
    fatal: bool = False
    profiles: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    #: The rule reports values that are not known statically (placeholders); every other
    #: rule's findings at an unknown value are dropped by the engine.
    sees_unknown: bool = False

    @property
    def area(self) -> str:
        return AREAS.get(self.id[3], ("other", ""))[0]

    @property
    def summary(self) -> str:
        """First line of the docs."""
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else ""

    def applies(self, profile: str) -> bool:
        """Whether the rule runs in ``profile`` (rules without profiles run in all)."""
        return not self.profiles or profile in self.profiles


class RegistryError(AmlforgeError):
    """The catalog itself is inconsistent (a bug in amlforge or a user policy pack)."""


class Registry:
    """All known rules by ID."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._by_name: dict[str, str] = {}

    def add(self, new: Rule) -> None:
        if not ID_PATTERN.match(new.id):
            raise RegistryError(f"rule ID '{new.id}' is not AML + 3 digits")
        if new.id in RETIRED:
            raise RegistryError(f"rule ID '{new.id}' is retired ({RETIRED[new.id]}); pick a new one")
        if new.id in self._rules:
            raise RegistryError(f"duplicate rule ID {new.id} in {new.module} and {self._rules[new.id].module}")
        if not NAME_PATTERN.match(new.name) or new.name.startswith(BANNED_NAME_PREFIXES):
            raise RegistryError(f"rule name '{new.name}' is not a kebab-case name of the flagged pattern")
        from amlforge.policies.failure_modes import CODES

        unknown = [p for p in new.prevents if p not in CODES]
        if unknown:
            raise RegistryError(f"{new.id} prevents unknown error codes {unknown}; see policies/failure_modes.py")
        if new.name in self._by_name:
            raise RegistryError(f"duplicate rule name {new.name}")
        self._rules[new.id] = new
        self._by_name[new.name] = new.id

    def get(self, key: str) -> Rule | None:
        """A rule by ID (any case) or name."""
        key = key.strip()
        return self._rules.get(key.upper()) or self._rules.get(self._by_name.get(key.lower(), ""))

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self._rules.values(), key=lambda r: r.id))

    def __len__(self) -> int:
        return len(self._rules)


REGISTRY = Registry()
_loaded_areas: set[str] = set()


def _module_doc(module_name: str) -> str:
    module = sys.modules.get(module_name)
    return (module.__doc__ or "") if module else ""


def rule(
    id: str,
    name: str,
    severity: Severity,
    *,
    prevents: Iterable[str] = (),
    since: str = "0.1",
    profiles: Iterable[str] = (),
    sees_unknown: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated function as the check of a rule; the module docstring is its doc.

    ``sees_unknown``: the rule's findings may sit at values a reader could not know statically
    (only the rule that reports those values sets it).
    """

    def register(check: Check) -> Check:
        REGISTRY.add(Rule(
            id, name, severity, tuple(prevents), since, check.__module__, _module_doc(check.__module__),
            check=check, profiles=tuple(profiles), sees_unknown=sees_unknown,
        ))
        return check

    return register


def declare(
    module_name: str,
    id: str,
    name: str,
    severity: Severity,
    *,
    prevents: Iterable[str] = (),
    since: str = "0.1",
    fatal: bool = False,
) -> None:
    """Register a rule that the loader reports (no check function)."""
    REGISTRY.add(Rule(id, name, severity, tuple(prevents), since, module_name, _module_doc(module_name), fatal=fatal))


def _rule_modules(folder: str) -> list[str]:
    """The rule modules of an area folder, by name: ``*.py`` files not starting with ``_``
    (listed with ``os.scandir``, which imports nothing; ``pkgutil`` costs ~2 ms of start-up)."""
    with os.scandir(folder) as entries:
        return sorted(e.name[:-3] for e in entries
                      if e.name.endswith(".py") and not e.name.startswith("_") and e.is_file())


def load_catalog(*, skip: Iterable[str] = ()) -> Registry:
    """Import the rule modules of the area folders (each area once) and return the registry.

    Only the folders named in :data:`AREAS` are walked, so that packages beside them (policy
    packs, docs) are not imported on every lint. ``skip`` leaves areas out: ``amlforge lint``
    skips ``review``, whose rules only report in ``amlforge review`` (about 10 ms of every
    start-up).
    """
    import amlforge.policies as package

    base = os.path.dirname(package.__file__)
    skipped = set(skip)
    for area, _title in AREAS.values():
        if area in _loaded_areas or area in skipped:
            continue
        folder = os.path.join(base, area)
        if os.path.isdir(folder):
            for name in _rule_modules(folder):
                importlib.import_module(f"{package.__name__}.{area}.{name}")
        _loaded_areas.add(area)
    return REGISTRY


__all__ = [
    "AREAS",
    "BANNED_NAME_PREFIXES",
    "Finding",
    "ID_PATTERN",
    "REGISTRY",
    "RETIRED",
    "Registry",
    "RegistryError",
    "Rule",
    "Severity",
    "Violation",
    "declare",
    "load_catalog",
    "rule",
]
