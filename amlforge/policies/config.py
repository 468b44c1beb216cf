"""Lint configuration: ``[tool.amlforge]`` in pyproject.toml or ``.amlforge.toml``, plus the CLI.

Keys (all optional)::

    [tool.amlforge]
    select = ["AML"]            # rule ID prefixes or names to run (default: all)
    ignore = ["AML602"]         # rule ID prefixes or names to skip
    fail_on = "warning"         # error | warning | info
    profile = "prod"            # dev | test | prod (rules may run only in some profiles)
    baseline = "amlforge-baseline.json"
    quota = "quota.yaml"        # quota figures (see amlforge.specs.quota)
    policies = ["builtin:production", "policies/org.yaml"]   # policy packs (docs/policy-packs.md)
    knowledge = "amlforge-knowledge.json"   # your own image/environment lifecycle entries (docs/knowledge.md)
    instance_types = ["k8s/instancetypes.yaml"]   # the cluster's InstanceType objects (kubectl get -o yaml)
    exclude = [".git", "node_modules"] # gitignore-like globs left out of folder walks (replaces the
                                       # defaults, amlforge.policies.settings.DEFAULT_EXCLUDE)
    extend-exclude = ["legacy/"]       # added to the defaults
    channels = ["conda-forge"]         # conda channels (or a mirror) that lock, lint and generate use
    extend = "../.amlforge.toml"       # inherit the keys of another configuration
    [tool.amlforge.severity]
    AML305 = "error"            # per-rule severity (ID or name)
    [tool.amlforge.options]
    memory_factor = 2.5         # rule options (see each rule's docs)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.policies.registry import Finding, Rule, Severity
from amlforge.specs.files import read_user_bytes

PROFILES = ("dev", "test", "prod")
_KEYS = {"select", "ignore", "fail_on", "profile", "baseline", "severity", "options", "exclude", "extend_exclude",
         "quota", "policies", "channels", "extend", "knowledge", "instance_types"}


class Baseline(Struct):
    """Findings accepted as they are: matched by rule, file and message (not line numbers)."""

    path: Path
    entries: set[tuple[str, str, str]] = field(default_factory=set)

    def accepts(self, finding: Finding) -> bool:
        return (finding.rule, finding.location.file, finding.message) in self.entries

    @classmethod
    def read(cls, path: Path) -> Baseline:
        try:
            data = json.loads(read_user_bytes(path, str(path), 64 * 1024 * 1024))
            entries = {(d["rule"], d["path"], d["message"]) for d in data["findings"]}
        except UserInputError as e:
            if e.message == "no such file":
                raise UserInputError("baseline file not found", Location(str(path)),
                                     "create it with: amlforge lint PATHS --write-baseline FILE") from None
            raise
        except FileNotFoundError:
            raise UserInputError("baseline file not found", Location(str(path)),
                                 "create it with: amlforge lint PATHS --write-baseline FILE") from None
        except (ValueError, KeyError, TypeError) as e:
            raise UserInputError(f"not an amlforge baseline file ({e.__class__.__name__})", Location(str(path)),
                                 "recreate it with --write-baseline") from None
        return cls(path, entries)

    @staticmethod
    def render(findings: list[Finding]) -> str:
        rows = sorted({(f.rule, f.location.file, f.message) for f in findings if not f.fatal})
        data = {"version": 1, "findings": [{"rule": r, "path": p, "message": m} for r, p, m in rows]}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


class LintConfig(Struct):
    """Which rules run, at which severity, and what fails the run."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.WARNING
    profile: str = "dev"
    baseline: Baseline | None = None
    options: dict[str, Any] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    quota_file: Path | None = None
    knowledge_file: Path | None = None
    instance_type_files: list[Path] = field(default_factory=list)
    source: str = ""
    policies: list[str] = field(default_factory=list)
    #: conda channels (or mirror URLs) of the project, in priority order; empty: the conda file's own.
    channels: list[str] = field(default_factory=list)
    #: Selectors given on the command line (the rest come from ``source``), for error messages.
    cli_selectors: set[str] = field(default_factory=set)

    @staticmethod
    def _matches(patterns: list[str], r: Rule) -> bool:
        return any(r.id.startswith(p.upper()) or r.name == p.lower() for p in patterns)

    def enabled(self, r: Rule) -> bool:
        """Whether rule ``r`` runs under this configuration."""
        if self.select and not self._matches(self.select, r):
            return False
        return not self._matches(self.ignore, r)

    def severity_for(self, rule_id: str, name: str) -> Severity | None:
        return self.severity.get(rule_id) or self.severity.get(name)


def _as_list(value: Any, key: str, where: Location) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise UserInputError(f"'{key}' should be a list of rule IDs or names", where, f'write {key} = ["AML3"]')


def load_config(root: Path, explicit: Path | None = None) -> tuple[dict[str, Any], str]:
    """The raw ``[tool.amlforge]`` table and its file: ``explicit``, else the nearest configuration
    of ``root`` (see :mod:`amlforge.policies.settings`); ``({}, "")`` without one."""
    from amlforge.policies.settings import Resolver, load_config_file

    found = load_config_file(explicit) if explicit is not None else Resolver().config_for(Path(os.path.abspath(root)))
    return dict(found.table), found.display


def build_config(
    table: dict[str, Any],
    source: str = "",
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    fail_on: str | None = None,
    profile: str | None = None,
    baseline: Path | None = None,
    severity: dict[str, str] | None = None,
    quota: Path | None = None,
    base_dir: Path | None = None,
    policies: list[str] | None = None,
    channels: list[str] | None = None,
    folders: dict[str, Path] | None = None,
) -> LintConfig:
    """Merge a configuration table with command-line values (the CLI wins; ``policies`` add up)."""
    where = Location(source or "configuration")
    table = {str(k).replace("-", "_"): v for k, v in table.items()}
    unknown = set(table) - _KEYS
    if unknown:
        import difflib

        key = sorted(unknown)[0]
        shown = sorted(k.replace("_", "-") if k == "extend_exclude" else k for k in _KEYS)
        close = difflib.get_close_matches(key, shown, n=1)
        raise UserInputError(f"unknown configuration key '{key}'", locate_in(source, key) if source else where,
                             f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(shown)}")
    cfg = LintConfig(source=source)
    cfg.select = select if select else _as_list(table.get("select", []), "select", where)
    cfg.cli_selectors = set(select or ()) | set(ignore or ()) | {k for k in (severity or {})}
    cfg.ignore = _as_list(table.get("ignore", []), "ignore", where) + (ignore or [])
    cfg.exclude = _as_list(table.get("exclude", []), "exclude", where)
    cfg.channels = list(channels) if channels else _channels(table.get("channels", []), where)
    try:
        cfg.fail_on = Severity.parse(fail_on or table.get("fail_on", "warning"))
        for key, value in {**table.get("severity", {}), **(severity or {})}.items():
            cfg.severity[key.upper() if key.upper().startswith("AML") else key.lower()] = Severity.parse(value)
    except (ValueError, AttributeError) as e:
        raise UserInputError(str(e), where, "use error, warning or info") from None
    cfg.profile = profile or table.get("profile", "dev")
    if cfg.profile not in PROFILES:
        raise UserInputError(f"unknown profile '{cfg.profile}'", where, f"use one of: {', '.join(PROFILES)}")
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise UserInputError("'options' should be a table", where, "write [tool.amlforge.options]")
    cfg.options = dict(options)
    here = base_dir or Path(".")
    folder = lambda key: (folders or {}).get(key, here)  # noqa: E731 - where relative paths of key start
    cfg.quota_file = quota or (folder("quota") / table["quota"] if table.get("quota") else None)
    knowledge = table.get("knowledge")
    if knowledge is not None and not (isinstance(knowledge, str) and knowledge.strip()):
        raise UserInputError("'knowledge' should be the path of a JSON file", where,
                             'write knowledge = "amlforge-knowledge.json"')
    cfg.knowledge_file = folder("knowledge") / knowledge if knowledge else None
    itypes = table.get("instance_types", [])
    if isinstance(itypes, str):
        itypes = [itypes]
    if not isinstance(itypes, list) or not all(isinstance(v, str) and v.strip() for v in itypes):
        raise UserInputError("'instance_types' should be a list of YAML files", where,
                             'write instance_types = ["k8s/instancetypes.yaml"]')
    cfg.instance_type_files = [folder("instance_types") / v for v in itypes]
    base = baseline or (folder("baseline") / table["baseline"] if table.get("baseline") else None)
    if base is not None:
        cfg.baseline = Baseline.read(base)
    cfg.policies = _policies(table.get("policies", []), folder("policies"), where) + list(policies or [])
    cfg.policies = list(dict.fromkeys(cfg.policies))
    return cfg


def _channels(value: Any, where: Location) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserInputError("'channels' should be a list of conda channel names or URLs", where,
                             'write channels = ["conda-forge"] or channels = ["https://mirror.example/conda-forge"]')
    return [v.strip() for v in value]


def locate_in(source: str, needle: str) -> Location:
    """The first place ``needle`` appears in the configuration file ``source`` (its line and
    column), for messages about a value; the file alone when it is not found."""
    try:
        with open(source, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                code = line.split("#", 1)[0]
                for form in (f'"{needle}"', f"'{needle}'", needle):
                    col = code.find(form)
                    if col >= 0:
                        return Location(source, number, col + 1)
    except OSError:
        pass
    return Location(source)


def _policies(value: Any, here: Path, where: Location) -> list[str]:
    """Policy pack references of the configuration: paths relative to its folder, or builtin:NAME."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserInputError("'policies' should be a list of policy pack files or builtin:NAME", where,
                             'write policies = ["builtin:production", "policies/org.yaml"]')
    return [v if v.startswith("builtin:") else str(here / v) for v in value]


__all__ = ["Baseline", "LintConfig", "PROFILES", "build_config", "load_config"]


# ---------------------------------------------------------------------------------------------
# Validation of selectors and options against the rules of the run.

_OPTION_LINE = LazyPattern(r"^- `([a-z_][a-z0-9_]*)`", re.M)


def known_options(registry: Any) -> dict[str, str]:
    """Option keys the rules document (the ``## Options`` section of their docs) -> a rule ID."""
    out: dict[str, str] = {}
    for r in registry:
        doc = r.doc or ""
        at = doc.find("## Options")
        if at < 0:
            continue
        section = doc[at:at + 3 + doc[at + 3:].find("\n## ")] if doc[at + 3:].find("\n## ") >= 0 else doc[at:]
        for name in _OPTION_LINE.findall(section):
            out.setdefault(name, r.id)
    return out


def _other_rules() -> list[Any]:
    """Rules a configuration may name although this run does not have them: those of the
    built-in policy packs (e.g. in ``ignore``, for runs without the pack) and the review rules
    (AML8xx, which report only in ``amlforge review``; read from their sources, since importing
    them would add them to the catalog of every later run in the process)."""
    from types import SimpleNamespace

    import amlforge.policies as package
    from amlforge.policies.packs import builtin_names, load_packs, pack_rules

    out: list[Any] = [r for pack in load_packs([f"builtin:{n}" for n in builtin_names()]) for r in pack_rules(pack)]
    folder = Path(os.path.dirname(package.__file__)) / "review"
    for path in sorted(folder.glob("*.py")):
        for rid, name in re.findall(r'@rule\(\s*"(AML\d{3})",\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")):
            out.append(SimpleNamespace(id=rid, name=name))
    return out


def validate(config: LintConfig, registry: Any) -> None:
    """Check that every selector (``select``, ``ignore``, ``[severity]`` keys, their command-line
    forms) names a rule, a rule name or an ID prefix of ``registry`` (or of a built-in policy
    pack), that every ``[options]`` key is one a rule documents, and that at least one rule runs.

    Raises:
        UserInputError: the first unknown selector or option, with a did-you-mean (exit 2).
    """
    import difflib

    rules = list(registry)
    extra: list[Rule] | None = None

    def known(value: str, exact: bool) -> bool:
        nonlocal extra
        for pool in (rules, None):
            if pool is None:
                extra = _other_rules() if extra is None else extra
                pool = extra
            up, low = value.upper(), value.lower()
            if any(r.id == up or r.name == low or (not exact and r.id.startswith(up) and len(up) >= 3) for r in pool):
                return True
        return False

    def check(values: Iterable[str], key: str, exact: bool) -> None:
        for value in values:
            if known(value, exact):
                continue
            pool = rules + (extra or [])
            words = sorted({r.id for r in pool} | {r.name for r in pool}
                           | ({r.id[:4] for r in pool} | {r.id[:5] for r in pool} if not exact else set()))
            probe = value.upper() if value[:3].upper() == "AML" else value.lower()
            close = difflib.get_close_matches(probe, words, n=3, cutoff=0.6)
            fixed = probe.replace("O", "0") if probe.startswith("AML") else probe
            if fixed != probe and fixed in words:
                close = [fixed, *[c for c in close if c != fixed]]
            cli = value in config.cli_selectors or not config.source
            flag = {"select": "--select", "ignore": "--ignore", "severity": "--severity"}.get(key, key)
            where = None if cli else locate_in(config.source, value)
            what = "rule ID or name" if exact else "rule ID, prefix or name"
            raise UserInputError(
                f"unknown {what} '{value}' in {flag if cli else key}", where,
                (f"did you mean {' or '.join(repr(c) for c in close[:3])}? " if close else "")
                + "see 'amlforge rules' for the IDs and names")

    check(config.select, "select", False)
    check(config.ignore, "ignore", False)
    check(config.severity, "severity", True)
    if config.options:
        options = known_options(registry)
        for key in config.options:
            if key in options:
                continue
            close = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.6)
            raise UserInputError(
                f"unknown option '{key}' in [tool.amlforge.options]",
                locate_in(config.source, key) if config.source else None,
                f"did you mean '{close[0]}'?" if close else
                "the options are listed in each rule's docs ('amlforge explain RULE'): " + ", ".join(sorted(options)))
    if not any(config.enabled(r) for r in rules):
        where = None if (set(config.select) & config.cli_selectors or not config.source) else Location(config.source)
        raise UserInputError(
            f"no rule is selected (select = {config.select}, ignore = {config.ignore})", where,
            "select rules that lint runs, e.g. --select AML3; review rules (AML8xx) run only in 'amlforge review'")


__all__ += ["known_options", "locate_in", "validate"]
