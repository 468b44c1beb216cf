"""The knowledge catalog: lifecycle facts that change with time, each with its source and date.

``amlforge/data/knowledge.json`` holds what amlforge knows about images, curated environments,
inference server releases, MLflow no-code deployments and service limits, with an ``as_of`` date.
A project can add or override entries with its own file (``knowledge = "file.json"`` in
``[tool.amlforge]``, same shape): a private registry's images, a company's blessed images. Its
entries are tried before the shipped ones, so they win.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError

#: Statuses of an image or environment entry, from fine to gone.
STATUSES = ("supported", "deprecated", "renamed", "retired")
#: A catalog older than this (in days) is reported once per run (AML010).
STALE_AFTER_DAYS = 183


class Lifecycle(Struct, frozen=True):
    """One image or curated environment entry: a name (``match``) or a pattern (``regex``)."""

    status: str
    source: str
    match: str = ""
    regex: str = ""
    date: str = ""
    replacement: str = ""
    note: str = ""
    origin: str = "amlforge"

    def replacement_for(self, name: str) -> str:
        """The replacement, with ``\\1`` groups of the pattern filled in from ``name``."""
        if self.regex and "\\" in self.replacement:
            m = re.match(self.regex, name)
            if m:
                return m.expand(self.replacement)
        return self.replacement

    def matches(self, name: str) -> bool:
        if self.match:
            return name.lower() == self.match.lower()
        return bool(self.regex) and re.match(self.regex, name) is not None


class ServerDefect(Struct, frozen=True):
    """Releases of azureml-inference-server-http with a known defect."""

    versions: str
    defect: str
    fix: str
    source: str
    with_: str = ""
    python: str = ""


class Knowledge(Struct):
    """The catalog of one run (shipped entries plus the project's own)."""

    as_of: _dt.date
    images: list[Lifecycle] = field(default_factory=list)
    environments: list[Lifecycle] = field(default_factory=list)
    server_defects: list[ServerDefect] = field(default_factory=list)
    mlflow: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    origins: list[str] = field(default_factory=list)

    def image(self, name: str) -> Lifecycle | None:
        """The first entry for an image name (without tag or digest)."""
        return next((e for e in self.images if e.matches(name)), None)

    def environment(self, name: str) -> Lifecycle | None:
        """The first entry for a curated environment name."""
        return next((e for e in self.environments if e.matches(name)), None)

    def limit(self, name: str, default: Any = None) -> Any:
        return self.limits.get(name, default)

    def age_days(self, today: _dt.date | None = None) -> int:
        return ((today or _dt.date.today()) - self.as_of).days


def _lifecycles(items: Any, origin: str, where: Location) -> list[Lifecycle]:
    out = []
    if not isinstance(items, list):
        raise UserInputError("'images' and 'environments' should be lists of entries", where,
                             'write "images": [{"match": "...", "status": "supported", "source": "..."}]')
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not (item.get("match") or item.get("regex")):
            raise UserInputError(f"entry {i} needs 'match' (a name) or 'regex'", where,
                                 'write {"match": "myregistry.azurecr.io/base", "status": "supported", "source": "..."}')
        status = item.get("status")
        if status not in STATUSES:
            raise UserInputError(f"entry {i} has status {status!r}", where, f"use one of: {', '.join(STATUSES)}")
        if item.get("regex"):
            try:
                re.compile(item["regex"])
            except re.error as e:
                raise UserInputError(f"entry {i}: invalid regex ({e})", where, "fix the pattern") from None
        out.append(Lifecycle(
            status=status, source=str(item.get("source", origin)), match=str(item.get("match", "")),
            regex=str(item.get("regex", "")), date=str(item.get("date") or ""),
            replacement=str(item.get("replacement", "")), note=str(item.get("note", "")), origin=origin))
    return out


def _parse(data: Any, origin: str, where: Location) -> Knowledge:
    if not isinstance(data, dict):
        raise UserInputError("a knowledge file is a JSON object", where, 'start with {"version": 1, "as_of": "YYYY-MM-DD"}')
    try:
        as_of = _dt.date.fromisoformat(str(data.get("as_of", "")))
    except ValueError:
        raise UserInputError("'as_of' should be a date (YYYY-MM-DD)", where, 'write "as_of": "2026-12-01"') from None
    defects = []
    for item in data.get("inference_server", []) or []:
        if not isinstance(item, dict) or not isinstance(item.get("versions"), str):
            raise UserInputError("an inference_server entry needs 'versions'", where, 'write "versions": ">=1.3.0,<=1.3.4"')
        defects.append(ServerDefect(item["versions"], str(item.get("defect", "")), str(item.get("fix", "")),
                                    str(item.get("source", origin)), str(item.get("with", "")),
                                    str(item.get("python", ""))))
    return Knowledge(
        as_of=as_of,
        images=_lifecycles(data.get("images", []), origin, where),
        environments=_lifecycles(data.get("environments", []), origin, where),
        server_defects=defects,
        mlflow=dict(data.get("mlflow", {}) or {}),
        limits=dict(data.get("limits", {}) or {}),
        origins=[origin],
    )


def shipped() -> Knowledge:
    """The catalog shipped with amlforge."""
    from amlforge.data import load_json

    return _parse(load_json("knowledge.json"), "amlforge", Location("amlforge/data/knowledge.json"))


def load_knowledge(extra: Path | None = None) -> Knowledge:
    """The shipped catalog, with the entries of ``extra`` (a project's own file) in front.

    Raises:
        UserInputError: ``extra`` is missing or malformed.
    """
    base = shipped()
    if extra is None:
        return base
    where = Location(str(extra))
    try:
        from amlforge.specs.files import read_user_bytes

        data = json.loads(read_user_bytes(extra, str(extra)))
    except UserInputError as e:
        if e.message == "no such file":
            raise UserInputError("knowledge file not found", where,
                                 "check the 'knowledge' path in the configuration") from None
        raise
    except FileNotFoundError:
        raise UserInputError("knowledge file not found", where, "check the 'knowledge' path in the configuration") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserInputError(f"knowledge file is not readable JSON ({type(e).__name__})", where,
                             "write a JSON object like amlforge/data/knowledge.json") from None
    data.setdefault("as_of", base.as_of.isoformat()) if isinstance(data, dict) else None
    own = _parse(data, str(extra), where)
    return Knowledge(
        as_of=base.as_of,  # staleness is about what amlforge ships
        images=own.images + base.images,
        environments=own.environments + base.environments,
        server_defects=own.server_defects + base.server_defects,
        mlflow={**base.mlflow, **own.mlflow},
        limits={**base.limits, **own.limits},
        origins=own.origins + base.origins,
    )


def to_dict(knowledge: Knowledge, today: _dt.date | None = None) -> dict[str, Any]:
    """The catalog as plain data (``amlforge data --format json``)."""
    from msgspec.structs import asdict

    return {
        "as_of": knowledge.as_of.isoformat(),
        "age_days": knowledge.age_days(today),
        "stale": knowledge.age_days(today) > STALE_AFTER_DAYS,
        "origins": knowledge.origins,
        "images": [asdict(e) for e in knowledge.images],
        "environments": [asdict(e) for e in knowledge.environments],
        "inference_server": [asdict(e) for e in knowledge.server_defects],
        "mlflow": knowledge.mlflow,
        "limits": knowledge.limits,
    }


def render_text(knowledge: Knowledge, today: _dt.date | None = None) -> str:
    """The catalog as a readable listing (``amlforge data``)."""
    age = knowledge.age_days(today)
    lines = [f"knowledge catalog as of {knowledge.as_of.isoformat()} ({age} days old"
             + (", older than six months: upgrade amlforge" if age > STALE_AFTER_DAYS else "") + ")",
             "sources: " + ", ".join(knowledge.origins), ""]
    for title, entries in (("images", knowledge.images), ("curated environments", knowledge.environments)):
        lines.append(f"{title}:")
        for e in entries:
            name = e.match or f"/{e.regex}/"
            extra = f" -> {e.replacement}" if e.replacement else ""
            when = f" {e.date}" if e.date else ""
            lines.append(f"  {e.status:<10} {name}{when}{extra}")
            lines.append(f"             source: {e.source}")
        lines.append("")
    lines.append("inference server releases with known defects:")
    for d in knowledge.server_defects:
        cond = (f" with {d.with_}" if d.with_ else "") + (f" on Python {d.python}" if d.python else "")
        lines.append(f"  {d.versions}{cond}: {d.defect} (fix: {d.fix})")
        lines.append(f"             source: {d.source}")
    lines.append("")
    lines.append("limits:")
    for key, value in sorted(knowledge.limits.items()):
        if key not in ("source", "as_of"):
            lines.append(f"  {key}: {value}")
    if knowledge.limits.get("source"):
        lines.append(f"  source: {knowledge.limits['source']} (as of {knowledge.limits.get('as_of', '?')})")
    return "\n".join(lines) + "\n"


__all__ = ["Knowledge", "Lifecycle", "STALE_AFTER_DAYS", "STATUSES", "ServerDefect", "load_knowledge", "render_text", "shipped", "to_dict"]
