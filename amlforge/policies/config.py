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
    [tool.amlforge.severity]
    AML305 = "error"            # per-rule severity (ID or name)
    [tool.amlforge.options]
    memory_factor = 2.5         # rule options (see each rule's docs)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amlforge.errors import Location, UserInputError
from amlforge.policies.registry import Finding, Rule, Severity
from amlforge.specs.files import read_user_bytes, read_user_text

PROFILES = ("dev", "test", "prod")
_KEYS = {"select", "ignore", "fail_on", "profile", "baseline", "severity", "options", "exclude", "quota", "policies", "knowledge", "instance_types"}


@dataclass
class Baseline:
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


@dataclass
class LintConfig:
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
    """Read the raw ``[tool.amlforge]`` table: the given file, else .amlforge.toml or pyproject.toml in root."""
    candidates = [explicit] if explicit else [root / ".amlforge.toml", root / "pyproject.toml"]
    for path in candidates:
        if path is None or not path.is_file():
            if explicit:
                raise UserInputError("configuration file not found", Location(str(explicit)), "check the path")
            continue
        import tomllib  # only when there is a file to read

        try:
            data = tomllib.loads(read_user_text(path, os.path.relpath(path)))
        except (tomllib.TOMLDecodeError, RecursionError) as e:
            raise UserInputError(f"invalid TOML: {e}", Location(os.path.relpath(path)), "fix the TOML syntax") from None
        table = data.get("tool", {}).get("amlforge") if path.name == "pyproject.toml" else data.get("tool", {}).get(
            "amlforge", data)
        if table is None:
            continue
        return table, os.path.relpath(path)
    return {}, ""


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
) -> LintConfig:
    """Merge a configuration table with command-line values (the CLI wins; ``policies`` add up)."""
    where = Location(source or "configuration")
    unknown = set(table) - _KEYS
    if unknown:
        import difflib

        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
        raise UserInputError(f"unknown configuration key '{key}'", where,
                             f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(sorted(_KEYS))}")
    cfg = LintConfig(source=source)
    cfg.select = select if select else _as_list(table.get("select", []), "select", where)
    cfg.ignore = _as_list(table.get("ignore", []), "ignore", where) + (ignore or [])
    cfg.exclude = _as_list(table.get("exclude", []), "exclude", where)
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
    cfg.quota_file = quota or (here / table["quota"] if table.get("quota") else None)
    knowledge = table.get("knowledge")
    if knowledge is not None and not (isinstance(knowledge, str) and knowledge.strip()):
        raise UserInputError("'knowledge' should be the path of a JSON file", where,
                             'write knowledge = "amlforge-knowledge.json"')
    cfg.knowledge_file = here / knowledge if knowledge else None
    itypes = table.get("instance_types", [])
    if isinstance(itypes, str):
        itypes = [itypes]
    if not isinstance(itypes, list) or not all(isinstance(v, str) and v.strip() for v in itypes):
        raise UserInputError("'instance_types' should be a list of YAML files", where,
                             'write instance_types = ["k8s/instancetypes.yaml"]')
    cfg.instance_type_files = [here / v for v in itypes]
    base = baseline or (here / table["baseline"] if table.get("baseline") else None)
    if base is not None:
        cfg.baseline = Baseline.read(base)
    cfg.policies = _policies(table.get("policies", []), here, where) + list(policies or [])
    cfg.policies = list(dict.fromkeys(cfg.policies))
    return cfg


def _policies(value: Any, here: Path, where: Location) -> list[str]:
    """Policy pack references of the configuration: paths relative to its folder, or builtin:NAME."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserInputError("'policies' should be a list of policy pack files or builtin:NAME", where,
                             'write policies = ["builtin:production", "policies/org.yaml"]')
    return [v if v.startswith("builtin:") else str(here / v) for v in value]


__all__ = ["Baseline", "LintConfig", "PROFILES", "build_config", "load_config"]
