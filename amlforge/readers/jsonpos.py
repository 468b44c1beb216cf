"""JSON with positions: parse JSON text into plain values and the (line, column) of every value.

The standard library's parser gives no positions, and no well-kept PyPI package does both
positions and bounds, so this is a small recursive-descent parser. Strings and numbers use the
standard library's own scanners (``json.decoder.scanstring``, its number pattern), so what is
accepted matches ``json.loads``, plus two ARM conveniences the Azure tools accept: ``//`` and
``/* */`` comments. Work is bounded: nesting depth and the number of values are capped.
"""

from __future__ import annotations

import bisect
import json.decoder
import re
from typing import Any

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError

Path = tuple[str | int, ...]

#: Deepest nesting accepted (ARM templates are rarely deeper than 15).
MAX_DEPTH = 64
#: Most values one file may hold.
MAX_VALUES = 500_000

_WS = LazyPattern(r"(?:[ \t\n\r]+|//[^\n]*|/\*.*?\*/)*", re.S)
_NUMBER = LazyPattern(r"(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?")
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


class JsonPositions:
    """Where every value and key of a parsed JSON document starts (1-based line, column)."""

    def __init__(self) -> None:
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}


class _Parser:
    def __init__(self, text: str, display: str) -> None:
        self.text = text
        self.display = display
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.count = 0
        self.pos = JsonPositions()

    def linecol(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def fail(self, offset: int, message: str, hint: str = "check the JSON syntax near this position") -> UserInputError:
        line, col = self.linecol(min(offset, len(self.text)))
        return UserInputError(f"invalid JSON: {message}", Location(self.display, line, col), hint)

    def skip(self, i: int) -> int:
        m = _WS.match(self.text, i)
        end = m.end() if m else i
        if self.text.startswith("/*", end):
            raise self.fail(end, "unterminated /* comment", "close the comment with */")
        return end

    def value(self, i: int, path: Path, depth: int) -> tuple[Any, int]:
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.fail(i, f"the file holds more than {MAX_VALUES:,} values",
                            "split the template into linked or nested templates")
        if depth > MAX_DEPTH:
            raise self.fail(i, f"the document nests deeper than {MAX_DEPTH} levels", "flatten the structure")
        i = self.skip(i)
        self.pos.values[path] = self.linecol(i)
        text = self.text
        if i >= len(text):
            raise self.fail(i, "unexpected end of file, expected a value", "the file is cut short: complete it")
        ch = text[i]
        if ch == "{":
            return self.obj(i + 1, path, depth)
        if ch == "[":
            return self.arr(i + 1, path, depth)
        if ch == '"':
            return self.string(i)
        if text.startswith("true", i):
            return True, i + 4
        if text.startswith("false", i):
            return False, i + 5
        if text.startswith("null", i):
            return None, i + 4
        m = _NUMBER.match(text, i)
        if m and m.end() > i:
            integer, frac, exp = m.groups()
            if not (frac or exp) and len(integer) > 40:  # int() refuses 4,300 digits; ARM numbers are 64-bit
                raise self.fail(i, f"the number {integer[:20]}... has {len(integer.lstrip('-')):,} digits; ARM numbers "
                                   "are 64-bit integers", "use a smaller number, or a string")
            return (float(integer + (frac or "") + (exp or "")) if frac or exp else int(integer)), m.end()
        hint = "quote strings with double quotes" if ch in "'" or ch.isalpha() else "check the JSON syntax near this position"
        raise self.fail(i, f"expected a value, found {text[i:i + 12]!r}", hint)

    def string(self, i: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, i + 1, True)
        except json.JSONDecodeError as e:
            raise self.fail(e.pos, e.msg.lower(), "close the string with a double quote; escape quotes as \\\"") from None

    def obj(self, i: int, path: Path, depth: int) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        i = self.skip(i)
        if self.text.startswith("}", i):
            return out, i + 1
        while True:
            i = self.skip(i)
            if not self.text.startswith('"', i):
                raise self.fail(i, "expected a double-quoted key", "keys are written as \"key\": value; "
                                "remove a trailing comma before }")
            key_at = self.linecol(i)
            key, i = self.string(i)
            i = self.skip(i)
            if not self.text.startswith(":", i):
                raise self.fail(i, f"expected ':' after the key \"{key}\"")
            child = path + (key,)
            self.pos.keys[child] = key_at
            out[key], i = self.value(i + 1, child, depth + 1)  # ARM: the last duplicate wins, as here
            i = self.skip(i)
            if self.text.startswith(",", i):
                i += 1
                continue
            if self.text.startswith("}", i):
                return out, i + 1
            raise self.fail(i, "expected ',' or '}' after a value", "separate members with commas")

    def arr(self, i: int, path: Path, depth: int) -> tuple[list[Any], int]:
        out: list[Any] = []
        i = self.skip(i)
        if self.text.startswith("]", i):
            return out, i + 1
        while True:
            item, i = self.value(i, path + (len(out),), depth + 1)
            out.append(item)
            i = self.skip(i)
            if self.text.startswith(",", i):
                i += 1
                continue
            if self.text.startswith("]", i):
                return out, i + 1
            raise self.fail(i, "expected ',' or ']' after a list item", "separate items with commas")


def parse_json(text: str, display: str) -> tuple[Any, JsonPositions]:
    """Parse ``text``; return the data and the position of every value and key.

    Raises:
        UserInputError: malformed JSON, too deep, too many values (located).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    parser = _Parser(text, display)
    data, end = parser.value(0, (), 0)
    end = parser.skip(end)
    if end != len(text):
        raise parser.fail(end, "extra text after the JSON document", "remove what follows the closing brace")
    return data, parser.pos


__all__ = ["JsonPositions", "MAX_DEPTH", "MAX_VALUES", "parse_json"]
