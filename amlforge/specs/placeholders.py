"""Template placeholders in YAML text: filled from ``--var`` before parsing, or kept as strings.

Repositories template their az-ml YAML and fill it in with their own scripts (sed, envsubst,
Azure Pipelines, Jinja). The conventions recognised here:

=====================================  ============================================
``{{NAME}}``, ``{{ NAME }}``           Jinja/mustache, the most common
``${{ NAME }}``                        GitHub Actions expressions
``<NAME>``, ``<my-endpoint-name>``     documentation style
``${NAME}``, ``$(NAME)``               envsubst, Azure Pipelines macros
``user_identity_ARM_id_place_holder``  a word ending in ``_place_holder``/``_placeholder``
=====================================  ============================================

``--var NAME=VALUE`` replaces every form of ``NAME`` in the text before it is parsed (as the
repositories' scripts do), so ``{{ACR}}.azurecr.io/img:1`` becomes a plain value and
``instance_count: {{COUNT}}`` a number. A :class:`ColumnMap` maps positions in the filled text
back to the original. A ``{{NAME}}`` left unfilled would make YAML read a flow mapping
(``{{ACR}}.azurecr.io`` does not even parse): its braces are swapped for private-use
characters of the same length before parsing and swapped back in the values (:func:`restore`),
so the value is the original text as a string, at its original columns.
"""

from __future__ import annotations

from bisect import bisect_right

from msgspec import Struct, field

from amlforge._regex import LazyPattern

# Same-length stand-ins for "{{" and "}}": printable for YAML, not indicators, never typed.
_OPEN, _CLOSE = "\ue000\ue001", "\ue002\ue003"

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
#: Every form of a placeholder. Groups: gh (``${{ x }}``), brace (``{{x}}``), angle (``<x>``),
#: dollar (``${x}``), macro (``$(x)``), word (``x_place_holder``).
_TOKEN = LazyPattern(
    r"\$\{\{\s*(?P<gh>[A-Za-z_][A-Za-z0-9_.\[\]'\"-]*)\s*\}\}"
    rf"|\{{\{{\s*(?P<brace>{_NAME})\s*\}}\}}"
    r"|(?<![A-Za-z0-9_<])<(?P<angle>[A-Za-z][A-Za-z0-9_.-]*)>"
    r"|\$\{(?P<dollar>[A-Za-z_][A-Za-z0-9_.]*)\}"
    r"|\$\((?P<macro>[A-Za-z_][A-Za-z0-9_.]*)\)"
    r"|(?<![A-Za-z0-9_-])(?P<word>[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*[_-][Pp][Ll][Aa][Cc][Ee]_?[Hh][Oo][Ll][Dd][Ee][Rr])"
    r"(?![A-Za-z0-9_-])"
)
_BRACE = LazyPattern(rf"\{{\{{\s*({_NAME})\s*\}}\}}")
_HINTS = ("{{", "<", "$", "older", "OLDER")  # cheap pre-test before the regex


class Token(Struct, frozen=True):
    """One placeholder in a value: its text as written and the name ``--var`` fills it with."""

    text: str
    name: str
    start: int


def tokens(value: str) -> list[Token]:
    """The placeholders in one string value, in order."""
    if not any(h in value for h in _HINTS):
        return []
    out = []
    for m in _TOKEN.finditer(value):
        name = next(g for g in m.groups() if g is not None)
        out.append(Token(m.group(0), name, m.start()))
    return out


class ColumnMap(Struct):
    """Columns of a filled text, mapped back to the original (lines never change: values of
    ``--var`` hold no line breaks). Per line: sorted edits (new start, new end, old start, old end),
    0-based."""

    edits: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.edits)

    def original(self, line: int, column: int) -> tuple[int, int]:
        """The original (line, column) of a 1-based position in the filled text."""
        row = self.edits.get(line)
        if not row:
            return line, column
        col = column - 1
        i = bisect_right([e[0] for e in row], col) - 1
        if i < 0:
            return line, column
        new_start, new_end, old_start, old_end = row[i]
        if col < new_end:
            return line, old_start + 1  # inside a filled value: its placeholder
        return line, col - new_end + old_end + 1


def fill(text: str, variables: dict[str, str]) -> tuple[str, ColumnMap]:
    """``text`` with every placeholder named in ``variables`` replaced by its value."""
    cmap = ColumnMap()
    if not variables or not any(h in text for h in ("{{", "<", "$", "older", "OLDER")):
        return text, cmap
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not any(h in line for h in _HINTS):
            continue
        parts: list[str] = []
        edits = []
        last = 0
        shift = 0
        for m in _TOKEN.finditer(line):
            name = next(g for g in m.groups() if g is not None)
            if name not in variables:
                continue
            value = variables[name]
            parts.append(line[last:m.start()])
            parts.append(value)
            new_start = m.start() + shift
            edits.append((new_start, new_start + len(value), m.start(), m.end()))
            shift += len(value) - (m.end() - m.start())
            last = m.end()
        if edits:
            parts.append(line[last:])
            lines[number - 1] = "".join(parts)
            cmap.edits[number] = edits
    return "\n".join(lines), cmap


def neutralise(text: str) -> str:
    """``text`` with the braces of each ``{{NAME}}`` left swapped for same-length stand-ins."""
    if "{{" not in text:
        return text
    return _BRACE.sub(lambda m: _OPEN + m.group(0)[2:-2] + _CLOSE, text)


def restore(value: str) -> str:
    """A parsed value with the original braces back."""
    if "\ue000" not in value and "\ue002" not in value:
        return value
    return value.replace(_OPEN, "{{").replace(_CLOSE, "}}")


def hint(name: str) -> str:
    """How to fill a placeholder."""
    return f"pass --var {name}=VALUE to lint with a value, or substitute it before deploying"


__all__ = ["ColumnMap", "Token", "fill", "hint", "neutralise", "restore", "tokens"]
