"""Read YAML into plain data plus a source map: the file, line and column of every value.

PyYAML's C composer builds the node graph (with marks); this module turns nodes into Python
values itself, so that it can record where each value came from, notice duplicate keys
(PyYAML silently keeps the last one, as azure-ai-ml does), and bound the work an alias-heavy
document can cause (a "billion laughs" file composes to a few nodes but expands to billions).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.specs.files import read_user_bytes
from amlforge.specs.placeholders import ColumnMap, fill, neutralise, restore, tokens

try:  # the C loader is 10-20x faster; fall back when PyYAML was built without libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

YamlPath = tuple[str | int, ...]

#: Largest YAML file amlforge reads. az-ml files are a few KB; anything this size is a mistake.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Largest number of values one document may expand to (aliases count each time they are used).
MAX_NODES = 100_000
#: Deepest nesting accepted.
MAX_DEPTH = 64

#: Keys whose values are free text: only ``{{NAME}}``/``${{ NAME }}`` count as placeholders there.
_FREE_TEXT_KEYS = frozenset({"description", "tags"})
#: Keys whose values a shell or the scoring script may expand: ``${NAME}`` and ``$(NAME)`` are
#: kept as written there (``MODEL_DIR: ${AZUREML_MODEL_DIR}/model``).
_SHELL_KEYS = frozenset({"environment_variables"})

#: A YAML anchor (``&name``) at the start of a value.
_ANCHOR = LazyPattern(r"(?:^|[\s,\[{:-])&[^\s,\[\]{}]")
#: Longest integer scalar read (in characters), and the largest magnitude (in bits, about 1,000
#: decimal digits): far above any az-ml setting, far below Python's 4,300-digit limit on turning
#: integers into text, so that every number read can be shown in a message.
MAX_NUMBER_CHARS = 1_000
MAX_INT_BITS = 3_300
#: Tags whose scalars are kept as their text.
_TEXT_TAGS = frozenset({
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:value", "tag:yaml.org,2002:merge", "?", "!",
})

_COLLECTION_TAGS = frozenset({
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:set", "tag:yaml.org,2002:omap",
    "tag:yaml.org,2002:pairs", "?", "!",
})

_constructor = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": _constructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


class Placeholder(Struct, frozen=True):
    """A placeholder (``{{NAME}}``, ``<NAME>``, ...; see ``specs/placeholders.py``) that no
    ``--var`` filled in: the value at ``path`` holds ``text`` at ``line``:``column``."""

    path: YamlPath
    name: str
    text: str = ""
    line: int = 0
    column: int = 0


class DuplicateKey(Struct, frozen=True):
    """A mapping key given twice; the later value wins (as in azure-ai-ml)."""

    path: YamlPath
    line: int
    column: int
    first_line: int


class SourceMap(Struct):
    """Where every value of one YAML document came from.

    ``values`` maps a path (mapping keys and list indexes from the document root) to the
    1-based (line, column) where the value starts; ``keys`` to where its key starts.
    ``unknown`` maps the paths of values that cannot be known statically (an unfilled
    placeholder, an ARM ``reference()``, a Python call's result) to the reason; no rule
    reports at or below them (see :meth:`is_unknown`).
    ``value_ends`` and ``key_ends`` hold where they end (the position just after the last
    character, as PyYAML's end marks), so that a fix can replace exactly the text of a value
    or a key and leave comments, order and formatting alone (specs/edits.py).
    """

    file: str
    values: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    value_ends: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    key_ends: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)
    placeholders: list[Placeholder] = field(default_factory=list)
    overrides: dict[YamlPath, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    unknown: dict[YamlPath, str] = field(default_factory=dict)
    #: Whether the text ends with a line break (``lines`` cannot tell).
    final_newline: bool = True
    #: For a source made of cells (a notebook): per line of ``lines``, the (cell, line in the
    #: cell, line in the file) it comes from; ``values``/``keys`` count lines of ``lines``.
    cells: list[tuple[int, int, int]] = field(default_factory=list)

    def position(self, line: int, column: int) -> Location:
        """The location of a (line, column) of ``lines``."""
        if self.cells and 0 < line <= len(self.cells):
            cell, in_cell, file_line = self.cells[line - 1]
            return Location(self.file, in_cell, column, cell, file_line)
        return Location(self.file, line, column)

    def locate(self, path: YamlPath, *, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest ancestor that the file spells out.

        Args:
            path: Path from the document root.
            key: Point at the key rather than the value (for "unknown key" findings).
        """
        probe = tuple(path)
        while True:
            table = self.keys if key else self.values
            pos = table.get(probe) or self.values.get(probe)
            if pos is not None:
                return self.position(pos[0], pos[1])
            if not probe:
                return self.position(1, 1)
            probe = probe[:-1]
            key = True  # a missing child is reported at its parent's key

    def is_unknown(self, path: YamlPath) -> bool:
        """Whether ``path`` or one of its ancestors holds a value that is not known statically."""
        if not self.unknown:
            return False
        path = tuple(path)
        return any(path[:n] in self.unknown for n in range(len(path) + 1))

    def has(self, path: YamlPath) -> bool:
        """Whether the file itself spells out ``path``."""
        return tuple(path) in self.values


class _Builder:
    def __init__(self, smap: SourceMap, columns: ColumnMap) -> None:
        self.smap = smap
        self.columns = columns
        self.count = 0

    def build(self, node: yaml.Node, path: YamlPath, depth: int, stack: tuple[int, ...]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if any(_ANCHOR.search(line) for line in self.smap.lines):
                raise UserInputError(
                    f"the document expands to more than {MAX_NODES:,} values",
                    _mark(self.smap.file, node.start_mark),
                    "this looks like a YAML alias bomb; remove the anchors (&) and aliases (*) "
                    "that refer to each other",
                )
            raise UserInputError(
                f"the document has more than {MAX_NODES:,} values, far more than an az-ml file",
                _mark(self.smap.file, node.start_mark),
                "pass the az-ml YAML files themselves, not data files (or exclude this file)",
            )
        if depth > MAX_DEPTH:
            raise UserInputError(
                f"the document nests deeper than {MAX_DEPTH} levels",
                _mark(self.smap.file, node.start_mark),
                "flatten the structure; az-ml files are a few levels deep",
            )
        pos = (node.start_mark.line + 1, node.start_mark.column + 1)
        if path not in self.smap.values:
            self.smap.values[path] = pos
            self.smap.value_ends[path] = (node.end_mark.line + 1, node.end_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path, value=True)
        if id(node) in stack:
            raise UserInputError(
                "the document refers to itself through an alias",
                _mark(self.smap.file, node.start_mark),
                "remove the recursive alias",
            )
        if node.tag not in _COLLECTION_TAGS:
            raise UserInputError(
                f"invalid YAML: unknown tag '{_short_tag(node.tag)}'",
                _mark(self.smap.file, node.start_mark),
                "remove the tag: az-ml files hold plain values (the az CLI rejects custom tags)",
            )
        inner = stack + (id(node),)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1, inner) for i, item in enumerate(node.value)]
        return self._mapping(node, path, depth, inner)

    def _scalar(self, node: yaml.ScalarNode, path: YamlPath, value: bool = False) -> Any:
        tag = node.tag
        construct = _SCALARS.get(tag)
        if construct is not None:
            return self._typed(node, construct)
        if tag not in _TEXT_TAGS:
            raise UserInputError(
                f"invalid YAML: unknown tag '{_short_tag(tag)}'",
                _mark(self.smap.file, node.start_mark),
                "remove the tag: az-ml files hold plain values (the az CLI rejects custom tags)",
            )
        text = restore(node.value)  # str, and timestamps/binary kept as their text
        if value:
            self._placeholders(node, path, text)
        return text

    def _typed(self, node: yaml.ScalarNode, construct: Any) -> Any:
        """A null, bool, int or float scalar; a bad value for its (explicit) tag, or a number
        too large to be shown, is a located error, not a crash."""
        kind = _short_tag(node.tag)
        where = _mark(self.smap.file, node.start_mark)
        text = node.value
        if node.tag == "tag:yaml.org,2002:int" and len(text) > MAX_NUMBER_CHARS:
            raise UserInputError(
                f"invalid YAML: a number with {len(text):,} characters; amlforge reads numbers of at most {MAX_NUMBER_CHARS:,}",
                where, "no az-ml setting needs a number this long; check the value")
        try:
            value = construct(node)
        except (ValueError, KeyError, TypeError, OverflowError, AttributeError, IndexError):
            raise UserInputError(
                f"invalid YAML: '{shorten(text)}' is not a valid {kind} value",
                where, f"remove the explicit tag {kind}, or write a valid value for it",
            ) from None
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise UserInputError(
                f"invalid YAML: a number too large to read (about {int(value.bit_length() * 0.30103):,} decimal digits)",
                where, "no az-ml setting needs a number this large; check the value")
        return value

    def _placeholders(self, node: yaml.ScalarNode, path: YamlPath, value: str) -> None:
        """Record the placeholders no ``--var`` filled: each at its own line and column, and
        the value as unknown, so that no rule but AML108 judges it."""
        found = tokens(value)
        if not found:
            return
        keys = {part for part in path if isinstance(part, str)}
        free_text, shell = bool(keys & _FREE_TEXT_KEYS), bool(keys & _SHELL_KEYS)
        line, column = self.columns.original(node.start_mark.line + 1, node.start_mark.column + 1)
        for token in found:
            if free_text and not token.text.startswith(("{{", "${{")):
                continue
            if shell and token.text.startswith(("${", "$(")) and not token.text.startswith("${{"):
                continue
            line, column = self._find(token.text, line, column)
            self.smap.placeholders.append(Placeholder(path, token.name, token.text, line, column))
            self.smap.unknown.setdefault(path, f"placeholder {token.text} is not filled in")
            column += len(token.text)

    def _find(self, text: str, line: int, column: int) -> tuple[int, int]:
        """Where ``text`` first appears at or after (line, column) in the original lines (a
        value may span lines, quoting shifts it); (line, column) itself when it does not."""
        lines = self.smap.lines
        for n in range(line, min(line + 50, len(lines)) + 1):
            at = lines[n - 1].find(text, column - 1 if n == line else 0)
            if at >= 0:
                return n, at + 1
        return line, column

    def _mapping(self, node: yaml.MappingNode, path: YamlPath, depth: int, stack: tuple[int, ...]) -> dict:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._merge(result, value_node, path, depth, stack)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise UserInputError(
                    "a mapping key must be a plain value, not a list or mapping",
                    _mark(self.smap.file, key_node.start_mark),
                    "if this is a {{PLACEHOLDER}}, quote it or pass --var",
                )
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            child = path + (key,)
            kpos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                first = self.smap.keys.get(child, kpos)
                self.smap.duplicates.append(DuplicateKey(child, kpos[0], kpos[1], first[0]))
                # the later value wins: forget where the earlier one was
                for table in (self.smap.values, self.smap.keys, self.smap.value_ends, self.smap.key_ends):
                    for stale in [p for p in table if p[: len(child)] == child]:
                        del table[stale]
            self.smap.keys[child] = kpos
            self.smap.key_ends[child] = (key_node.end_mark.line + 1, key_node.end_mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1, stack)
        return result

    def _merge(self, result: dict, node: yaml.Node, path: YamlPath, depth: int, stack: tuple[int, ...]) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            merged = self.build(source, path, depth + 1, stack)
            if not isinstance(merged, dict):
                raise UserInputError(
                    "a merge key (<<) must refer to a mapping",
                    _mark(self.smap.file, source.start_mark),
                    "point << at an anchored mapping",
                )
            for key, value in merged.items():
                result.setdefault(key, value)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message (the escaping is the reporters' job)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _short_tag(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:"):]
    return shorten(tag, 40)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """How many values each composed node expands to (aliases counted each time they are used),
    capped at ``MAX_NODES + 1``. Memoised per node and iterative, so the cost is that of the
    composed graph (a few KB), not of its expansion (billions for an alias bomb)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        kids = _children(node)
        if not children_done:
            if key in in_progress:  # a recursive alias: the builder reports it
                continue
            in_progress.add(key)
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        in_progress.discard(key)
        sizes[key] = min(MAX_NODES + 1, 1 + sum(sizes.get(id(k), 1) for k in kids))
    return sizes


def _refuse_alias_bombs(root: yaml.Node, display: str) -> None:
    """Refuse a document that expands to more than :data:`MAX_NODES` values before building it,
    located at the innermost anchored node that alone expands past the limit."""
    sizes = _expanded_sizes(root)
    if sizes.get(id(root), 0) <= MAX_NODES or len(sizes) > MAX_NODES:
        return  # small, or large by itself (not by aliases): the builder says which
    node = root
    seen: set[int] = set()
    while id(node) not in seen:
        seen.add(id(node))
        bigger = next((k for k in _children(node) if sizes.get(id(k), 0) > MAX_NODES), None)
        if bigger is None:
            break
        node = bigger
    raise UserInputError(
        f"the document expands to more than {MAX_NODES:,} values",
        _mark(display, node.start_mark),
        "this looks like a YAML alias bomb; remove the anchors (&) and aliases (*) that refer to each other",
    )


def _mark(file: str, mark: Any) -> Location:
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def _yaml_hint(problem: str, line_text: str) -> str:
    if "\\t" in problem or "'\\t'" in problem or "\t" in line_text[: len(line_text) - len(line_text.lstrip())]:
        return "YAML does not allow tabs for indentation; indent with spaces"
    if "{{" in line_text:
        return "quote the {{PLACEHOLDER}} value, or pass --var NAME=VALUE"
    if "mapping values are not allowed" in problem:
        return "a value that contains ': ' must be quoted"
    if "duplicate anchor" in problem or "undefined alias" in problem:
        return "define each anchor (&name) once, before the aliases (*name) that use it"
    if "unacceptable character" in problem or "special characters are not allowed" in problem:
        return "the file contains control characters; is it a binary file?"
    if "expected a single document" in problem:
        return "keep one az-ml resource per file (no '---' separators)"
    return "check the indentation and quoting around this position"


#: Byte-order marks of the encodings read besides UTF-8 (UTF-32 first: its LE mark starts with UTF-16's).
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _looks_utf16(raw: bytes) -> bool:
    """ASCII text in UTF-16 without a BOM: every other byte of the start is NUL."""
    head = raw[:512]
    if len(head) < 8:
        return False
    return all(b == 0 for b in head[1::2]) or all(b == 0 for b in head[0::2])


def read_text(path: Path, display: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a text file that amlforge must parse, with clear errors for everything odd.

    The bytes come from :func:`~amlforge.specs.files.read_user_bytes`: regular files only,
    never blocking, at most ``max_bytes``.

    Raises:
        UserInputError: missing, unreadable, not a regular file, too large, binary or not UTF-8.
    """
    try:
        raw = read_user_bytes(path, display, max_bytes)
    except UserInputError as e:
        if "larger than" not in e.message:
            raise
        try:
            size = os.stat(path).st_size
        except OSError:
            size = max_bytes + 1
        raise UserInputError(
            f"file is {size / 1_048_576:.1f} MiB, larger than the {max_bytes / 1_048_576:.0f} MiB "
            "limit for configuration files",
            Location(display, 1, 1),
            "pass the endpoint's source files (az-ml YAML, templates, Python), not model or data files",
        ) from None
    return decode_text(raw, display, max_bytes)


def decode_text(raw: bytes, display: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Bytes of a file amlforge must parse (from disk or standard input) as text.

    Raises:
        UserInputError: too large, binary (NUL bytes) or not UTF-8; located at the byte.
    """
    if len(raw) > max_bytes:
        raise UserInputError(
            f"file is {len(raw) / 1_048_576:.1f} MiB, larger than the {max_bytes / 1_048_576:.0f} MiB "
            "limit for configuration files",
            Location(display, 1, 1),
            "pass the endpoint's source files (az-ml YAML, templates, Python), not model or data files",
        )
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(codec)
            except UnicodeDecodeError:
                raise UserInputError(f"file starts with a {codec.upper()} byte-order mark but is not valid {codec.upper()}",
                                     Location(display, 1, 1), "save the file as UTF-8") from None
            if "\x00" in text:
                raise UserInputError("file contains NUL characters: it is binary, not text", Location(display, 1, 1),
                                     "pass the endpoint's source files (az-ml YAML, templates, Python), not model or data files")
            return text
    if b"\x00" in raw:
        if _looks_utf16(raw):
            raise UserInputError(
                "file looks like UTF-16 text without a byte-order mark; amlforge reads UTF-8, or UTF-16/32 with a BOM",
                Location(display, 1, 1), "save the file as UTF-8")
        offset = raw.index(b"\x00")
        line = raw.count(b"\n", 0, offset) + 1
        raise UserInputError(
            "file contains NUL bytes: it is binary, not text",
            Location(display, line, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1),
            "pass the endpoint's source files (az-ml YAML, templates, Python), not model or data files",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise UserInputError(
            f"file is not valid UTF-8 (byte 0x{raw[e.start]:02x})",
            Location(display, line, column),
            "save the file as UTF-8",
        ) from None


def parse_yaml(text: str, display: str, variables: dict[str, str] | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data and its :class:`SourceMap`.

    Placeholders (``specs/placeholders.py``) named in ``variables`` are filled in the text before
    parsing; positions still point into ``text``. The ones left parse as strings and are recorded.

    Raises:
        UserInputError: malformed YAML, alias bombs, recursion, complex keys.
    """
    smap = SourceMap(display, lines=text.splitlines(), final_newline=text.endswith(("\n", "\r")) or not text)
    filled, columns = fill(text, variables or {})
    prepared = neutralise(filled)
    try:
        node = yaml.compose(prepared, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        line_text = smap.lines[mark.line] if mark is not None and mark.line < len(smap.lines) else ""
        detail = f"{problem}" + (f" ({e.context})" if e.context and e.problem else "")
        where = _mark(display, mark)
        if columns and where.line:
            where = Location(display, *columns.original(where.line, where.column))
        raise UserInputError(f"invalid YAML: {detail}", where, _yaml_hint(problem, line_text)) from None
    except yaml.reader.ReaderError as e:
        # an unacceptable character: PyYAML gives its offset in the text, not a line
        offset = max(0, min(int(e.position), len(prepared)))
        line = prepared.count("\n", 0, offset) + 1
        column = offset - (prepared.rfind("\n", 0, offset) + 1) + 1
        char = e.character if isinstance(e.character, str) else chr(e.character)
        where = Location(display, line, column)
        if columns:
            where = Location(display, *columns.original(line, column))
        raise UserInputError(
            f"invalid YAML: control character U+{ord(char):04X} is not allowed",
            where,
            "remove the control character; is this a binary file?",
        ) from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked errors are rare
        raise UserInputError(f"invalid YAML: {e}", Location(display, 1, 1), "check the file") from None
    except RecursionError:
        raise UserInputError(
            "the document nests too deeply to parse",
            Location(display, 1, 1),
            "flatten the structure; az-ml files are a few levels deep",
        ) from None
    if node is None:
        return None, smap
    if "*" in prepared:  # an alias is written *name: without one, nothing expands (a third of a parse)
        _refuse_alias_bombs(node, display)
    data = _Builder(smap, columns).build(node, (), 0, ())
    if columns:
        _remap(smap, columns)
    return data, smap


def _remap(smap: SourceMap, columns: ColumnMap) -> None:
    """Positions in the filled text -> positions in the original text."""
    for table in (smap.values, smap.keys, smap.value_ends, smap.key_ends):
        for path, (line, column) in table.items():
            table[path] = columns.original(line, column)
    smap.duplicates[:] = [
        DuplicateKey(d.path, *columns.original(d.line, d.column), d.first_line) for d in smap.duplicates]


__all__ = [
    "DuplicateKey",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Placeholder",
    "SourceMap",
    "YamlPath",
    "decode_text",
    "parse_yaml",
    "read_text",
]
