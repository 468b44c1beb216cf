"""Fixes: exact text edits at source-map positions, with an applicability (as ruff's).

A :class:`Fix` is a title ("Rename 'instance_typ' to 'instance_type'"), one or more
:class:`Edit` values (replace the text between two 1-based positions of a file), and whether it
is *safe* (``amlforge lint --fix`` applies it) or *unsafe* (only with ``--unsafe-fixes``: it
changes what is deployed in a way the user must decide, such as moving traffic). The same fixes
are printed by ``--diff`` and offered by ``amlforge server`` as code actions.

Edits are computed from the :class:`~amlforge.specs.source.SourceMap` (start and end of every
key and value), never by dumping YAML again, so comments, key order, quoting and indentation
stay as the user wrote them. The builders here check that the text at the span is the text
the parser read; when it is not (a block scalar, a value that ``{{PLACEHOLDER}}`` quoting
moved), they return ``None`` and the finding simply has no fix.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any

from msgspec import Struct

from amlforge._regex import LazyPattern
from amlforge.specs.source import SourceMap, YamlPath


class Applicability(str, enum.Enum):
    """Whether a fix can be applied without a person deciding (``safe``) or not (``unsafe``)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Edit(Struct, frozen=True):
    """Replace the text from (line, column) up to, not including, (end_line, end_column).

    Positions are 1-based, columns count characters (as the source map's); an insertion has
    equal start and end. ``file`` is the display path findings use.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.file, "line": self.line, "column": self.column, "end_line": self.end_line,
                "end_column": self.end_column, "text": self.text}


class Fix(Struct, frozen=True):
    """What a finding's fix does (``title``, imperative), its edits, and its applicability."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE

    @property
    def safe(self) -> bool:
        return self.applicability is Applicability.SAFE

    @property
    def files(self) -> set[str]:
        return {e.file for e in self.edits}

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "applicability": self.applicability.value,
                "edits": [e.to_dict() for e in self.edits]}


# ---------------------------------------------------------------------------------------------
# Builders: a fix from source-map positions.


def span_text(lines: Sequence[str], line: int, column: int, end_line: int, end_column: int) -> str | None:
    """The text between two positions of ``lines`` (None when they fall outside)."""
    if line < 1 or end_line < line or end_line > len(lines) + 1:
        return None
    if line == end_line:
        if line > len(lines):
            return "" if column == end_column == 1 else None
        text = lines[line - 1]
        if end_column - 1 > len(text) or column > end_column:
            return None
        return text[column - 1:end_column - 1]
    parts = [lines[line - 1][column - 1:]]
    parts.extend(lines[line:end_line - 1])
    if end_line <= len(lines):
        parts.append(lines[end_line - 1][:end_column - 1])
    return "\n".join(parts)


def value_span(smap: SourceMap, path: YamlPath) -> tuple[int, int, int, int] | None:
    """Start and end of the value at ``path`` when the file spells it out."""
    if smap.cells:
        return None  # a notebook: lines of its cells, not of the file a fix would edit
    start, end = smap.values.get(tuple(path)), smap.value_ends.get(tuple(path))
    return (*start, *end) if start and end else None


def key_span(smap: SourceMap, path: YamlPath) -> tuple[int, int, int, int] | None:
    """Start and end of the key of ``path`` when the file spells it out."""
    if smap.cells:
        return None
    start, end = smap.keys.get(tuple(path)), smap.key_ends.get(tuple(path))
    return (*start, *end) if start and end else None


_PLAIN_UNSAFE_START = tuple("-?:,[]{}#&*!|>'\"%@`")


def render_scalar(value: str | int | float | bool, like: str = "") -> str:
    """``value`` as a YAML scalar, in the quoting style of ``like`` (the text it replaces).

    Numbers and booleans are written plain. A string keeps single or double quotes when the
    old text had them; an unquoted one stays unquoted when YAML reads it back as the same
    string in block and in flow context, and is double-quoted otherwise.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if like.startswith('"'):
        return json.dumps(value, ensure_ascii=False)
    if like.startswith("'"):
        return "'" + value.replace("'", "''") + "'"
    if _reads_back_plain(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _reads_back_plain(value: str) -> bool:
    import yaml

    if not value or value != value.strip() or value.startswith(_PLAIN_UNSAFE_START) or "\n" in value:
        return False
    try:
        return yaml.safe_load(f"k: {value}\n") == {"k": value} and yaml.safe_load(f"[{value}]") == [value]
    except yaml.YAMLError:
        return False


def scalar_matches(old: str, parsed: Any) -> bool:
    """Whether ``old`` (the text at a span) is a one-line scalar that reads as ``parsed``."""
    import yaml

    if old == parsed or (old and old == str(parsed) and not isinstance(parsed, bool)):
        return True  # a plain scalar spelled as its value: the common case, without a parse
    if "\n" in old or old.startswith(("|", ">", "&", "*", "!")):
        return False
    try:
        loaded = yaml.safe_load(f"k: {old}\n")
    except yaml.YAMLError:
        return False
    if not isinstance(loaded, dict) or "k" not in loaded:
        return False
    value = loaded["k"]
    # pydantic may have coerced the value ("70" -> 70): compare as text, not as type
    return value == parsed or (not isinstance(value, (dict, list)) and str(value) == str(parsed))


def replace_value(smap: SourceMap, path: YamlPath, parsed: Any, new: str | int | float | bool, title: str,
                  applicability: Applicability = Applicability.SAFE) -> Fix | None:
    """A fix that replaces the one-line scalar at ``path`` (which reads as ``parsed``) by ``new``."""
    where = value_span(smap, path)
    if where is None:
        return None
    old = span_text(smap.lines, *where)
    if old is None or not scalar_matches(old, parsed):
        return None
    text = render_scalar(new, old)
    if text == old:
        return None
    return Fix(title, (Edit(smap.file, *where, text),), applicability)


def rename_key(smap: SourceMap, path: YamlPath, new_key: str, title: str,
               applicability: Applicability = Applicability.SAFE) -> Fix | None:
    """A fix that renames the key of ``path`` to ``new_key``, keeping its quoting."""
    where = key_span(smap, path)
    if where is None:
        return None
    old = span_text(smap.lines, *where)
    if old is None or not scalar_matches(old, path[-1]):
        return None
    return Fix(title, (Edit(smap.file, *where, render_scalar(new_key, old)),), applicability)


def insert_entry(smap: SourceMap, parent: YamlPath, key: str, value: str | int, title: str,
                 applicability: Applicability = Applicability.SAFE) -> Fix | None:
    """A fix that adds ``key: value`` to the block mapping at ``parent``.

    The new line goes before the mapping's first key, with that key's indentation. A
    top-level mapping the file does not have yet is added at the end of the file, indented
    as the file indents. An empty, null or flow-style mapping gets no fix.
    """
    if smap.cells:
        return None
    entry = f"{render_scalar(key)}: {render_scalar(value)}"
    parent = tuple(parent)
    children = sorted((pos, p) for p, pos in smap.keys.items() if len(p) == len(parent) + 1 and p[:-1] == parent)
    if children:
        (line, column), _ = children[0]
        if not _starts_line(smap, line, column):
            return None
        return Fix(title, (Edit(smap.file, line, 1, line, 1, " " * (column - 1) + entry + "\n"),), applicability)
    if parent in smap.values or len(parent) != 1:
        return None  # spelled out but empty, null or flow style, or nested: leave it to the user
    top = [pos for p, pos in smap.keys.items() if len(p) == 1]
    if not top or any(not _starts_line(smap, *pos) or pos[1] != 1 for pos in top):
        return None
    block = f"{render_scalar(str(parent[0]))}:\n{' ' * _indent_step(smap)}{entry}\n"
    if smap.final_newline or not smap.lines:
        at = len(smap.lines) + 1
        return Fix(title, (Edit(smap.file, at, 1, at, 1, block),), applicability)
    last = len(smap.lines)
    end = len(smap.lines[-1]) + 1
    return Fix(title, (Edit(smap.file, last, end, last, end, "\n" + block),), applicability)


def _starts_line(smap: SourceMap, line: int, column: int) -> bool:
    return 1 <= line <= len(smap.lines) and not smap.lines[line - 1][:column - 1].strip()


def _indent_step(smap: SourceMap) -> int:
    """The indentation step the file uses (the smallest nested key column - parent column), default 2."""
    steps = []
    for path, (_, column) in smap.keys.items():
        if len(path) >= 2 and isinstance(path[-2], str):
            parent = smap.keys.get(path[:-1])
            if parent is not None and column > parent[1]:
                steps.append(column - parent[1])
    return min(steps) if steps else 2


# ---------------------------------------------------------------------------------------------
# Applying edits to text.

_LINE_BREAK = LazyPattern(r"\r\n|[\r\n\x85\u2028\u2029]")


def _line_starts(text: str) -> list[int]:
    """Offsets where each line starts, with YAML's line breaks (what the marks count)."""
    return [0] + [m.end() for m in _LINE_BREAK.finditer(text)]


def _offset(starts: list[int], text: str, line: int, column: int) -> int | None:
    if line == len(starts) + 1 and column == 1:
        return len(text)
    if not 1 <= line <= len(starts):
        return None
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    line_text = text[start:end]
    content = len(_LINE_BREAK.split(line_text, 1)[0])
    if column - 1 > content:
        return None
    return start + column - 1


def apply_fixes(text: str, fixes: Iterable[Fix], file: str) -> tuple[str, list[Fix]]:
    """Apply the edits of ``fixes`` that touch ``file`` to its ``text``.

    A fix's edits are applied together or not at all; a fix that overlaps one already taken
    (or that has an edit outside the text) is left for the next pass, as ruff does.

    Returns:
        The new text and the fixes applied.
    """
    starts = _line_starts(text)
    taken: list[tuple[int, int, str]] = []
    applied: list[Fix] = []
    for fix in fixes:
        mine = [e for e in fix.edits if e.file == file]
        if not mine or len(mine) != len(fix.edits):
            continue  # fixes spanning several files are applied by the caller per file; none do today
        ranges = []
        for e in mine:
            a, b = _offset(starts, text, e.line, e.column), _offset(starts, text, e.end_line, e.end_column)
            if a is None or b is None or b < a:
                break
            ranges.append((a, b, e.text))
        else:
            if any(_overlaps(r, t) for r in ranges for t in taken) or _self_overlap(ranges):
                continue
            taken.extend(ranges)
            applied.append(fix)
    eol = "\r\n" if "\r\n" in text else "\n"  # inserted lines follow the file's line ends
    out = text
    for a, b, new in sorted(taken, key=lambda r: (r[0], r[1]), reverse=True):
        out = out[:a] + (new.replace("\n", eol) if eol != "\n" else new) + out[b:]
    return out, applied


def _overlaps(r: tuple[int, int, str], t: tuple[int, int, str]) -> bool:
    if r[0] == r[1] or t[0] == t[1]:  # insertions conflict only at the same point or inside a replacement
        return (t[0] < r[0] < t[1]) or (r[0] < t[0] < r[1]) or r[0] == t[0]
    return r[0] < t[1] and t[0] < r[1]


def _self_overlap(ranges: list[tuple[int, int, str]]) -> bool:
    return any(_overlaps(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1:])


__all__ = [
    "Applicability",
    "Edit",
    "Fix",
    "apply_fixes",
    "insert_entry",
    "key_span",
    "render_scalar",
    "rename_key",
    "scalar_matches",
    "replace_value",
    "span_text",
    "value_span",
]
