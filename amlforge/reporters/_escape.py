"""The one escaping of user text in every report: no raw control, bidi or zero-width character.

Messages quote keys, values and file names from the input. Printed raw, a newline in a crafted
key would forge an extra ``file:line:col: severity RULE`` line in a CI log, an ANSI escape
would rewrite the terminal, a right-to-left override (U+202E) would show text in another order
than it has ("Trojan Source"), a zero-width space would make two different names look equal,
and an undecodable file name (a lone surrogate) would crash a strict UTF-8 stdout. So every
reporter (text, github, junit, markdown, json, sarif) and every error line goes through
:func:`escape_text`:

- ``\\n``, ``\\r``, ``\\t`` become those two-character escapes; other C0/C1 controls and DEL
  become ``\\xNN``;
- bidi controls, zero-width characters, line/paragraph separators and the BOM become ``\\uNNNN``;
- a lone surrogate (a byte of a file name that is not UTF-8) becomes ``\\xNN`` of that byte.

Backslashes are left alone, so that the escaping is idempotent (escaping twice changes nothing)
and Windows paths stay readable. Text longer than ``limit`` is cut, with the count of what was
left out, so that an 80 KB value does not become an 80 KB message.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec.structs

from amlforge._regex import LazyPattern

#: Characters shown escaped.
UNSAFE = LazyPattern(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Longest message or hint shown.
MAX_MESSAGE_CHARS = 2_000

T = TypeVar("T")


def _one(match: re.Match[str]) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def escape_text(text: Any, limit: int | None = None) -> str:
    """``text`` with every unsafe character escaped (see the module docs), cut to ``limit``."""
    text = text if isinstance(text, str) else str(text)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit:,} more characters)"
    return UNSAFE.sub(_one, text)


def escape_finding(f: T) -> T:
    """A copy of a finding (anything with ``message``, ``hint`` and ``location.file``) whose
    user text is escaped."""
    location = getattr(f, "location", None)
    changes: dict[str, Any] = {
        "message": escape_text(f.message, MAX_MESSAGE_CHARS),  # type: ignore[attr-defined]
        "hint": escape_text(f.hint, MAX_MESSAGE_CHARS),  # type: ignore[attr-defined]
    }
    if location is not None:
        changes["location"] = msgspec.structs.replace(location, file=escape_text(location.file))
    return msgspec.structs.replace(f, **changes)  # type: ignore[type-var]


def escape_findings(report: T, *fields: str) -> T:
    """A copy of a report whose finding lists (``fields``, default ``findings``) are escaped."""
    names = fields or ("findings",)
    return msgspec.structs.replace(report, **{n: [escape_finding(f) for f in getattr(report, n)]  # type: ignore[type-var]
                                          for n in names})


__all__ = ["MAX_MESSAGE_CHARS", "UNSAFE", "escape_finding", "escape_findings", "escape_text"]
