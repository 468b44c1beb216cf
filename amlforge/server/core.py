"""What the language server knows, without the protocol: lint with open documents, field docs, completions.

The server is the same linter as ``amlforge lint``, not a second implementation: a document
is linted by linting the folder of its project root as ``amlforge lint FOLDER`` does (every
file with the configuration and project root nearest to it, :mod:`amlforge.policies.settings`,
so a sub-project below it keeps its own), with the text of every open document laid over the
saved state of the others (:class:`~amlforge.specs.overlay.Overlay`). Cross-file rules
therefore see the editor's text of an open endpoint together with the saved deployments, and
every open document of a project is linted again when one of them changes.

Positions here are amlforge's: 1-based lines, columns in characters. ``lsp.py`` converts them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import AmlforgeError, Location, UserInputError
from amlforge.policies.registry import Finding, Severity

#: Files the server lints (az-ml YAML, amlforge.yaml, conda files, pyproject/.amlforge.toml, score.py).
LINTED_SUFFIXES = (".yml", ".yaml", ".py", ".toml")


class LintOutcome(Struct):
    """Findings of one project lint, by absolute file path, and the root it used."""

    root: Path
    findings: dict[Path, list[Finding]] = field(default_factory=dict)
    error: UserInputError | None = None


class Session:
    """The open documents of an editor and the lint of their projects."""

    def __init__(self) -> None:
        self.documents: dict[Path, str] = {}

    def open(self, path: Path, text: str) -> None:
        self.documents[_key(path)] = text

    def close(self, path: Path) -> None:
        self.documents.pop(_key(path), None)

    def root_of(self, path: Path) -> Path:
        """The project root of a document: the nearest folder above it with a project marker, as
        ``amlforge lint`` finds it; without one, the document's own folder (never the editor's
        working directory, which may be ``/`` or the home folder)."""
        return self._root(path)[0]

    def _root(self, path: Path) -> tuple[Path, bool]:
        """(root, whether a project marker makes it one)."""
        from amlforge.policies.settings import ROOT_MARKERS

        start = Path(_key(path)).parent
        for candidate in (start, *start.parents):
            if any((candidate / m).exists() for m in ROOT_MARKERS):
                return candidate, True
        return start, False

    def lint(self, path: Path) -> LintOutcome:
        """Lint the project of ``path`` with every open document's text; never raises for bad input."""
        from amlforge.policies.engine import lint_paths
        from amlforge.specs.overlay import Overlay

        root, marked = self._root(path)
        outcome = LintOutcome(root)
        open_here = {p: t for p, t in self.documents.items() if _below(p, root)}
        overlay = Overlay.of_files(open_here) if open_here else None
        try:
            # each file's own configuration and root, as `amlforge lint ROOT` finds them; without
            # a marker above, the document's folder (not the editor's working directory) is the root
            report = lint_paths([root], root=None if marked else root, overlay=overlay, skip_unknown=True)
        except UserInputError as e:
            outcome.error = e
            return outcome
        except AmlforgeError as e:
            outcome.error = UserInputError(str(e), Location(str(path), 1, 1), "fix the configuration")
            return outcome
        for f in report.findings:
            outcome.findings.setdefault(Path(_key(f.location.file)), []).append(f)
        return outcome

    def projects_of_open_documents(self, changed: Path) -> set[Path]:
        """Roots whose open documents must be linted again after ``changed`` changed."""
        return {self.root_of(changed)}


def _key(path: Path | str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _below(path: str, root: Path) -> bool:
    r = _key(root)
    return path == r or path.startswith(r + os.sep)


# ---------------------------------------------------------------------------------------------
# Ranges


def finding_range(f: Finding, lines: list[str]) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column), 1-based, of what ``f`` points at.

    The start is the finding's location; the end is the end of its fix's edit when that starts
    there, else the end of the word (the YAML scalar or key, up to a comment) at that place.
    """
    line, column = max(f.location.line, 1), max(f.location.column, 1)
    if f.fix is not None:
        for e in f.fix.edits:
            if (e.line, e.column) == (line, column) and (e.end_line, e.end_column) != (line, column):
                return line, column, e.end_line, e.end_column
    text = lines[line - 1] if line <= len(lines) else ""
    rest = text[column - 1:]
    m = re.match(r"[^\s#:]+(?::(?!\s|$)[^\s#:]*)*", rest)  # a scalar (azureml:x:1 keeps its colons) or a key
    if m and m.group(0):
        if rest.startswith(("'", '"')):
            q = rest[0]
            close = rest.find(q, 1)
            if close > 0:
                return line, column, line, column + close + 1
        return line, column, line, column + len(m.group(0))
    stripped = text.rstrip()
    return line, column, line, max(column + 1, len(stripped) + 1)


# ---------------------------------------------------------------------------------------------
# Suppression comments

_IGNORE = LazyPattern(r"#\s*amlforge:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


def suppression_edit(lines: list[str], line: int, rule: str) -> tuple[int, int, str]:
    """``(line, column, text)`` to insert so that ``rule`` is ignored on ``line`` (1-based):
    added to an ``# amlforge: ignore[...]`` comment already on the line, or a new trailing one."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    m = _IGNORE.search(text)
    if m:
        return line, m.end(1) + 1, f", {rule}"
    body = text.rstrip()
    return line, len(body) + 1, f"  # amlforge: ignore[{rule}]"


# ---------------------------------------------------------------------------------------------
# Field documentation and completion


class Context(Struct, frozen=True):
    """Where the cursor is in a YAML document: the mapping path above it, the key it is on or
    after, whether it is in the value, and the word typed so far."""

    parent: tuple[str | int, ...]
    key: str | None
    in_value: bool
    prefix: str


_KEY_LINE = LazyPattern(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[^\s#:'\"][^#:]*?|\"[^\"]*\"|'[^']*')\s*:(?:\s|$)")


def context_at(lines: list[str], line: int, column: int) -> Context:
    """The :class:`Context` at 1-based ``line``, ``column`` (the cursor is before that column).

    Works on text that does not parse (a key half typed): the mapping path comes from the
    indentation of the lines above, as a reader sees it.
    """
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    before = text[:column - 1]
    m = _KEY_LINE.match(before)
    dash = bool(re.match(r"^\s*-\s+", before))
    if m and before[m.end():].strip() == before[m.end():].strip() and ":" in before:
        key = m.group("key").strip().strip("'\"")
        indent = len(m.group("indent")) + (len(m.group("dash")) if m.group("dash") else 0)
        prefix = before[m.end():].strip()
        return Context(_parent_path(lines, line, indent, dash), key, True, prefix)
    stripped = before.lstrip()
    indent = len(before) - len(stripped)
    if stripped.startswith("- "):
        indent += 2 + len(stripped[2:]) - len(stripped[2:].lstrip())
        stripped = stripped[2:].lstrip()
    return Context(_parent_path(lines, line, indent, dash), None, False, stripped)


def _parent_path(lines: list[str], line: int, indent: int, in_item: bool = False) -> tuple[str | int, ...]:
    """The mapping keys (and list items, as 0) above a line whose content starts at ``indent``."""
    path: list[str | int] = []
    current = indent
    owner_of_list = False  # just went up through a list item: its owner may sit at the same indentation
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        lead = len(text) - len(text.lstrip())
        item = re.match(r"^\s*-\s+", text)
        content = len(item.group(0)) if item else lead
        m = _KEY_LINE.match(text)
        if owner_of_list:
            if item and lead == current:
                continue  # an earlier item of the same list
            if m and not item and lead <= current:
                path.append(m.group("key").strip().strip("'\""))
                current, owner_of_list = lead, False
            elif lead < current:
                owner_of_list = False
            else:
                continue
        elif item and content <= current and lead < current:
            path.append(0)  # the index does not matter for the model
            current, owner_of_list = lead, True
            continue
        elif m and lead < current:
            path.append(m.group("key").strip().strip("'\""))
            current = lead
        if current == 0 and not owner_of_list:
            break
    return tuple(reversed(path))


def model_for(path: Path, text: str) -> type | None:
    """The spec model class of a document (by file name, ``$schema`` or keys), or None."""
    from amlforge.readers.azml_yaml import classify
    from amlforge.specs.loader import _spec_class

    if path.name in ("amlforge.yaml", "amlforge.yml"):
        from amlforge.specs.project_spec import ProjectSpec

        return ProjectSpec
    keys: dict[str, Any] = {}
    for ln in text.splitlines():
        m = re.match(r"^([A-Za-z_$][\w$.-]*)\s*:\s*(.*?)\s*(?:#.*)?$", ln)
        if m:
            keys[m.group(1)] = m.group(2).strip("'\"") or {}
    if "$schema" in keys:
        keys["$schema"] = str(keys["$schema"])
    if "type" in keys and isinstance(keys["type"], dict):
        keys.pop("type")
    try:
        kind = classify(keys)
    except Exception:  # noqa: BLE001 - a guess from half-written text must never break the editor
        return None
    if kind is None or kind.startswith("unsupported:") or kind == "project_spec":
        return None
    try:
        return _spec_class(kind)
    except KeyError:
        return None


def model_at(cls: type, path: Iterable[str | int]) -> type | None:
    """The model class of the mapping at ``path`` below ``cls``."""
    from amlforge.specs.loader import _model_at

    found, _ = _model_at(cls, list(path))
    return found


def field_info(cls: type, key: str) -> Any:
    from amlforge.specs.loader import _field_by_key

    return _field_by_key(cls, key)


def field_doc(cls: type, parent: tuple[str | int, ...], key: str) -> str | None:
    """Markdown documentation of the field ``key`` of the mapping at ``parent``."""
    owner = model_at(cls, parent)
    if owner is None:
        return None
    info = field_info(owner, key)
    if info is None:
        return None
    values = enum_values(info.annotation)
    shown = " | ".join(values) if values and values != ["true", "false"] else _type_name(info.annotation)
    doc = f"**{key}**: `{shown}`"
    if info.description:
        doc += f"\n\n{info.description}"
    if values:
        doc += "\n\nOne of: " + ", ".join(f"`{v}`" for v in values)
    if not info.is_required() and info.default is not None and not callable(info.default):
        doc += f"\n\nDefault: `{info.default}`"
    return doc + f"\n\n*{owner.__name__}*"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = re.sub(r"typing\.|amlforge\.specs\.[\w.]+\.", "", text)
    text = re.sub(r"Annotated\[(.*?), .*\]$", r"\1", text)
    return text


def enum_values(annotation: Any) -> list[str]:
    """The values a Literal (possibly inside Annotated/Optional) allows."""
    import typing

    from amlforge.specs.loader import _unwrap

    out: list[str] = []
    for _, t in _unwrap(annotation):
        if typing.get_origin(t) is typing.Literal:
            out.extend(str(a) for a in typing.get_args(t))
        elif t is bool:
            out.extend(["true", "false"])
    return list(dict.fromkeys(out))


class Completion(Struct, frozen=True):
    label: str
    detail: str = ""
    documentation: str = ""
    insert: str = ""
    is_key: bool = True


def completions(path: Path, text: str, line: int, column: int) -> list[Completion]:
    """Keys of the mapping at the cursor, or the values a field allows (SKUs, auth modes, booleans)."""
    cls = model_for(path, text)
    if cls is None:
        return []
    lines = text.splitlines() or [""]
    if line > len(lines):
        lines += [""] * (line - len(lines))
    ctx = context_at(lines, line, column)
    if ctx.in_value and ctx.key:
        return _value_completions(cls, ctx)
    owner = model_at(cls, ctx.parent)
    if owner is None:
        return []
    from amlforge.specs.loader import field_keys

    present = _sibling_keys(lines, line, ctx)
    out = []
    for key in field_keys(owner):
        if key in present or key.startswith("$") and ctx.parent:
            continue
        info = field_info(owner, key)
        out.append(Completion(key, _type_name(info.annotation) if info else "",
                              (info.description or "") if info else "", f"{key}: "))
    return out


def _sibling_keys(lines: list[str], line: int, ctx: Context) -> set[str]:
    text = lines[line - 1]
    indent = len(text) - len(text.lstrip())
    out = set()
    for number, other in enumerate(lines, start=1):
        if number == line:
            continue
        m = _KEY_LINE.match(other)
        if m and len(m.group("indent")) == indent and not m.group("dash"):
            # same indentation and same parent (rough: the nearest lines share it)
            out.add(m.group("key").strip().strip("'\""))
    return out if not ctx.parent else {k for k in out if _parent_path(lines, line, indent, False) == ctx.parent}


def _value_completions(cls: type, ctx: Context) -> list[Completion]:
    owner = model_at(cls, ctx.parent)
    if owner is None:
        return []
    info = field_info(owner, ctx.key)
    if info is None:
        return []
    if ctx.key == "instance_type" or ctx.key == "instance_types":
        from amlforge.specs.sku import load_catalog

        return [Completion(s.name, f"{s.vcpus} vCPUs, {s.memory_gib:g} GiB" + (f", {s.gpus:g} GPU" if s.gpus else ""),
                           "retiring " + s.retirement_date if s.retirement_date else "", s.name, False)
                for s in load_catalog()]
    return [Completion(v, ctx.key, "", v, False) for v in enum_values(info.annotation)]


def rule_doc(rule_id: str) -> str | None:
    """Markdown of a rule's docs (what, why, example), for hover."""
    from amlforge.policies.registry import load_catalog

    r = load_catalog(skip=("review",)).get(rule_id)
    if r is None:
        return None
    head = f"**{r.id} {r.name}** ({r.severity.value})"
    if r.prevents:
        head += f" · prevents {', '.join(r.prevents)}"
    return head + "\n\n" + r.doc.strip()


SEVERITIES = {Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}


__all__ = [
    "Completion",
    "Context",
    "LintOutcome",
    "Session",
    "completions",
    "context_at",
    "field_doc",
    "finding_range",
    "model_for",
    "rule_doc",
    "suppression_edit",
]
