"""A small Bicep parser that keeps the position of every expression.

pycep-parser (the tests' oracle) returns no positions, and findings must point at the
``.bicep`` line and column, so this module parses the subset of Bicep that declares resources:
``targetScope``, ``param`` (with decorators and defaults), ``var``, ``resource`` (``existing``,
``parent:``, nested child resources, ``if (...)`` conditions, ``[for ...]`` loops), ``module``
(local files), ``output``, ``metadata``; ``import``/``type``/``func``/``using`` lines are
skipped. Expressions: strings with ``${}`` interpolation and ``'''multi-line'''`` strings,
numbers, ``true``/``false``/``null``, objects, arrays, ``for`` expressions, calls (also
``az.``/``sys.`` namespaced), member and index access (``.?`` too), unary ``!``/``-``, binary
operators, ``??`` and the ternary. Work is bounded by the size cap of the reader, a nesting
depth cap and a token cap.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern

MAX_DEPTH = 64
MAX_TOKENS = 1_000_000


class BicepSyntaxError(ValueError):
    """Malformed Bicep; ``offset`` is the character offset in the file."""

    def __init__(self, message: str, offset: int, hint: str = "check the Bicep syntax near this position") -> None:
        super().__init__(message)
        self.offset = offset
        self.hint = hint


# -- syntax tree -------------------------------------------------------------------------------


class Node(Struct):
    offset: int


class Lit(Node):
    value: Any


class Interp(Node):
    parts: list[Any]  # str or Node


class Ref(Node):
    name: str


class Call(Node):
    name: str  # lower case, without namespace
    args: list[Any]


class Member(Node):
    target: Any
    name: str


class Index(Node):
    target: Any
    index: Any


class Unary(Node):
    op: str
    operand: Any


class Binary(Node):
    op: str
    left: Any
    right: Any


class Ternary(Node):
    cond: Any
    then: Any
    other: Any


class Obj(Node):
    #: key -> (key offset, value node)
    items: dict[str, tuple[int, Any]] = field(default_factory=dict)
    #: nested ``resource`` declarations in this body
    resources: list[Decl] = field(default_factory=list)


class Arr(Node):
    items: list[Any] = field(default_factory=list)


class For(Node):
    var: str
    index_var: str | None
    source: Any
    body: Any


class IfBody(Node):
    cond: Any
    body: Any


class Opaque(Node):
    """An expression form amlforge does not evaluate (a lambda)."""

    what: str


class Decl(Struct):
    """A top-level (or nested resource) declaration."""

    kind: str  # param, var, resource, module, output, targetScope, metadata
    name: str
    offset: int
    value: Any = None  # default / value / body
    type_text: str = ""  # resource 'type@version', module path, param type
    existing: bool = False
    decorators: list[Call] = field(default_factory=list)


# -- lexer -------------------------------------------------------------------------------------

_PUNCT = ["'''", "...", "==", "!=", "=~", "!~", "<=", ">=", "&&", "||", "??", ".?", "=>", "::",
          "{", "}", "[", "]", "(", ")", ",", ":", ".", "?", "!", "=", "<", ">", "+", "-", "*", "/", "%", "@", "|"]
_NAME = LazyPattern(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = LazyPattern(r"\d+(?:\.\d+)?")
_SPACE = LazyPattern(r"[ \t\r]+")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}


class Tok(Struct):
    kind: str  # name, num, str, punct, nl, eof
    value: Any
    offset: int


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text

    def tokens(self, i: int = 0, stop_at_brace: bool = False) -> tuple[list[Tok], int]:
        text = self.text
        out: list[Tok] = []
        depth = 0
        n = len(text)
        while i < n:
            if len(out) > MAX_TOKENS:
                raise BicepSyntaxError("the file is too large to parse", i, "split it into modules")
            ch = text[i]
            m = _SPACE.match(text, i)
            if m:
                i = m.end()
                continue
            if ch == "\n":
                out.append(Tok("nl", "\n", i))
                i += 1
                continue
            if text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    raise BicepSyntaxError("unterminated /* comment", i, "close the comment with */")
                out.extend(Tok("nl", "\n", i) for _ in range(text.count("\n", i, j)))
                i = j + 2
                continue
            if text.startswith("'''", i):
                j = text.find("'''", i + 3)
                if j < 0:
                    raise BicepSyntaxError("unterminated ''' string", i, "close the string with '''")
                body = text[i + 3:j]
                if body.startswith("\n"):
                    body = body[1:]
                elif body.startswith("\r\n"):
                    body = body[2:]
                out.append(Tok("str", [body], i))
                i = j + 3
                continue
            if ch == "'":
                parts, i2 = self.string(i)
                out.append(Tok("str", parts, i))
                i = i2
                continue
            m = _NAME.match(text, i)
            if m:
                out.append(Tok("name", m.group(), i))
                i = m.end()
                continue
            m = _NUMBER.match(text, i)
            if m:
                digits = m.group().lstrip("-").lstrip("0")
                if "." not in digits and (len(digits) > 19 or len(digits) == 19 and int(digits) > 2**63 - 1):
                    raise BicepSyntaxError("the number is larger than Bicep's 64-bit integers", i,
                                           "use a number below 9223372036854775808, or a string")
                value = float(m.group()) if "." in m.group() else int(m.group())
                out.append(Tok("num", value, i))
                i = m.end()
                continue
            for p in _PUNCT:
                if text.startswith(p, i):
                    if stop_at_brace:
                        if p == "{":
                            depth += 1
                        elif p == "}":
                            if depth == 0:
                                return out, i
                            depth -= 1
                    out.append(Tok("punct", p, i))
                    i += len(p)
                    break
            else:
                raise BicepSyntaxError(f"unexpected character {ch!r}", i)
        if stop_at_brace:
            raise BicepSyntaxError("unterminated ${ in a string", i, "close the interpolation with }")
        out.append(Tok("eof", None, n))
        return out, n

    def string(self, start: int) -> tuple[list[Any], int]:
        text = self.text
        parts: list[Any] = []
        buf: list[str] = []
        i = start + 1
        n = len(text)
        while True:
            if i >= n or text[i] == "\n":
                raise BicepSyntaxError("unterminated string", start, "close the string with ' (escape quotes as \\')")
            ch = text[i]
            if ch == "'":
                break
            if ch == "\\":
                nxt = text[i + 1:i + 2]
                if nxt in _ESCAPES:
                    buf.append(_ESCAPES[nxt])
                    i += 2
                    continue
                m = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}").match(text, i)
                if m and int(m.group(1), 16) > 0x10FFFF:
                    raise BicepSyntaxError(f"\\u{{{m.group(1)}}} is past the last Unicode code point (10FFFF)", i,
                                           "escape a code point from \\u{0} to \\u{10FFFF}")
                if m:
                    buf.append(chr(int(m.group(1), 16)))
                    i = m.end()
                    continue
                raise BicepSyntaxError(f"unknown escape \\{nxt}", i, "escape with \\\\, \\', \\n, \\r, \\t, \\$ or \\u{...}")
            if text.startswith("${", i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                toks, end = self.tokens(i + 2, stop_at_brace=True)
                toks.append(Tok("eof", None, end))
                parts.append(toks)
                i = end + 1
                continue
            buf.append(ch)
            i += 1
        if buf or not parts:
            parts.append("".join(buf))
        return parts, i + 1


# -- parser ------------------------------------------------------------------------------------

_BINARY = [("??",), ("||",), ("&&",), ("==", "!=", "=~", "!~"), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0

    # helpers
    def peek(self, skip_nl: bool = False) -> Tok:
        j = self.i
        while skip_nl and self.toks[j].kind == "nl":
            j += 1
        return self.toks[j]

    def next(self) -> Tok:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def skip_nl(self) -> None:
        while self.toks[self.i].kind == "nl":
            self.i += 1

    def is_(self, value: str, skip_nl: bool = False) -> bool:
        tok = self.peek(skip_nl)
        return tok.kind in ("punct", "name") and tok.value == value

    def expect(self, value: str, skip_nl: bool = False) -> Tok:
        if skip_nl:
            self.skip_nl()
        tok = self.peek()
        if not (tok.kind in ("punct", "name") and tok.value == value):
            found = "the end of the line" if tok.kind == "nl" else "the end of the file" if tok.kind == "eof" else repr(tok.value)
            raise BicepSyntaxError(f"expected '{value}', found {found}", tok.offset)
        return self.next()

    # statements
    def program(self) -> list[Decl]:
        decls: list[Decl] = []
        decorators: list[Call] = []
        while True:
            self.skip_nl()
            tok = self.peek()
            if tok.kind == "eof":
                return decls
            if tok.kind == "punct" and tok.value == "@":
                self.next()
                node = self.expr()
                if isinstance(node, Ref):
                    node = Call(node.offset, node.name.lower(), [])
                if isinstance(node, Call):
                    decorators.append(node)
                continue
            if tok.kind != "name":
                raise BicepSyntaxError(f"expected a declaration, found {tok.value!r}", tok.offset,
                                       "declarations start with param, var, resource, module or output")
            decl = self.statement()
            if decl is not None:
                decl.decorators = decorators
                decls.append(decl)
            decorators = []
            tok = self.peek()
            if tok.kind not in ("nl", "eof"):
                raise BicepSyntaxError(f"unexpected {tok.value!r} after the declaration", tok.offset,
                                       "put one declaration per line")

    def statement(self) -> Decl | None:
        tok = self.next()
        word = tok.value
        if word == "targetScope":
            self.expect("=")
            return Decl("targetScope", "targetScope", tok.offset, self.expr())
        if word in ("import", "using", "type", "func", "extension", "provider"):
            self.skip_line()
            return None
        if word in ("param", "var", "output", "metadata", "resource", "module"):
            name = self.next()
            if name.kind != "name":
                raise BicepSyntaxError(f"expected a name after '{word}'", name.offset)
            if word == "var" or word == "metadata":
                self.expect("=")
                return Decl(word, name.value, name.offset, self.expr())
            if word in ("param", "output"):
                type_start = self.peek().offset
                type_text = ""
                while not self.is_("=") and self.peek().kind not in ("nl", "eof"):
                    t = self.next()
                    type_text += (" " if type_text else "") + str(t.value if t.kind != "str" else "'...'")
                    if t.kind == "punct" and t.value in ("{", "["):
                        self.i -= 1
                        self.expr()  # an inline object/array type: skip it
                del type_start
                value = None
                if self.is_("="):
                    self.next()
                    value = self.expr()
                return Decl(word, name.value, name.offset, value, type_text)
            target = self.next()
            if target.kind != "str" or len(target.value) != 1 or not isinstance(target.value[0], str):
                raise BicepSyntaxError(f"expected a quoted {'type' if word == 'resource' else 'path'} after the name",
                                       target.offset)
            existing = False
            if self.is_("existing"):
                self.next()
                existing = True
            self.expect("=")
            self.skip_nl()
            return Decl(word, name.value, name.offset, self.body(), target.value[0], existing)
        raise BicepSyntaxError(f"unknown declaration '{word}'", tok.offset,
                               "declarations start with param, var, resource, module or output")

    def body(self) -> Any:
        if self.is_("if"):
            tok = self.next()
            self.expect("(")
            cond = self.expr(in_parens=True)
            self.expect(")", skip_nl=True)
            self.skip_nl()
            return IfBody(tok.offset, cond, self.expr())
        return self.expr()

    def skip_line(self) -> None:
        depth = 0
        while True:
            tok = self.peek()
            if tok.kind == "eof" or (tok.kind == "nl" and depth == 0):
                return
            if tok.kind == "punct" and tok.value in ("{", "[", "("):
                depth += 1
            elif tok.kind == "punct" and tok.value in ("}", "]", ")"):
                depth -= 1
            self.next()

    # expressions
    def expr(self, in_parens: bool = False) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise BicepSyntaxError(f"the expression nests deeper than {MAX_DEPTH} levels", self.peek().offset,
                                   "flatten the structure")
        try:
            cond = self.binary(0, in_parens)
            if self.is_("?", skip_nl=in_parens):
                if in_parens:
                    self.skip_nl()
                tok = self.next()
                self.skip_nl()
                then = self.expr(in_parens)
                self.expect(":", skip_nl=True)
                self.skip_nl()
                return Ternary(cond.offset, cond, then, self.expr(in_parens))
            return cond
        finally:
            self.depth -= 1

    def binary(self, level: int, in_parens: bool) -> Any:
        if level == len(_BINARY):
            return self.unary(in_parens)
        left = self.binary(level + 1, in_parens)
        while True:
            tok = self.peek(skip_nl=in_parens)
            if tok.kind == "punct" and tok.value in _BINARY[level]:
                if in_parens:
                    self.skip_nl()
                self.next()
                self.skip_nl()
                left = Binary(left.offset, tok.value, left, self.binary(level + 1, in_parens))
            else:
                return left

    def unary(self, in_parens: bool) -> Any:
        tok = self.peek()
        if tok.kind == "punct" and tok.value in ("!", "-"):
            self.next()
            return Unary(tok.offset, tok.value, self.unary(in_parens))
        return self.postfix(self.primary())

    def postfix(self, node: Any) -> Any:
        while True:
            tok = self.peek()
            if tok.kind == "punct" and tok.value in (".", ".?"):
                self.next()
                name = self.next()
                if name.kind != "name":
                    raise BicepSyntaxError("expected a property name after '.'", name.offset)
                if self.is_("(") and isinstance(node, Ref) and node.name in ("az", "sys"):
                    node = Call(node.offset, name.value.lower(), self.args())
                elif self.is_("("):
                    node = Call(node.offset, "." + name.value.lower(), [node, *self.args()])
                else:
                    node = Member(name.offset, node, name.value)
            elif tok.kind == "punct" and tok.value == "[":
                self.next()
                self.skip_nl()
                index = self.expr(in_parens=True)
                self.expect("]", skip_nl=True)
                node = Index(tok.offset, node, index)
            elif tok.kind == "punct" and tok.value == "!":  # non-null assertion
                nxt = self.toks[self.i + 1]
                if nxt.kind in ("name", "num", "str") or (nxt.kind == "punct" and nxt.value in ("(", "[", "{")):
                    return node
                self.next()
            else:
                return node

    def args(self) -> list[Any]:
        self.expect("(")
        args = []
        self.skip_nl()
        if self.is_(")"):
            self.next()
            return args
        while True:
            self.skip_nl()
            args.append(self.expr(in_parens=True))
            self.skip_nl()
            if self.is_(","):
                self.next()
                continue
            self.expect(")")
            return args

    def primary(self) -> Any:
        tok = self.next()
        if tok.kind == "num":
            return Lit(tok.offset, tok.value)
        if tok.kind == "str":
            parts = []
            for part in tok.value:
                if isinstance(part, str):
                    parts.append(part)
                else:
                    sub = _Parser(part)
                    sub.depth = self.depth
                    sub.skip_nl()
                    node = sub.expr(in_parens=True)
                    sub.skip_nl()
                    if sub.peek().kind != "eof":
                        raise BicepSyntaxError(f"unexpected {sub.peek().value!r} in ${{...}}", sub.peek().offset)
                    parts.append(node)
            if len(parts) == 1 and isinstance(parts[0], str):
                return Lit(tok.offset, parts[0])
            return Interp(tok.offset, parts)
        if tok.kind == "name":
            if tok.value in ("true", "false"):
                return Lit(tok.offset, tok.value == "true")
            if tok.value == "null":
                return Lit(tok.offset, None)
            if self.is_("=>"):
                self.next()
                self.expr()
                return Opaque(tok.offset, "a lambda")
            if self.is_("("):
                return Call(tok.offset, tok.value.lower(), self.args())
            return Ref(tok.offset, tok.value)
        if tok.kind == "punct":
            if tok.value == "(":
                self.skip_nl()
                node = self.expr(in_parens=True)
                if self.is_(",", skip_nl=True):  # (a, b) => ...: a lambda's parameters
                    while not self.is_(")", skip_nl=True) and self.peek().kind != "eof":
                        self.next()
                self.expect(")", skip_nl=True)
                if self.is_("=>"):
                    self.next()
                    self.expr()
                    return Opaque(tok.offset, "a lambda")
                return node
            if tok.value == "{":
                return self.obj(tok.offset)
            if tok.value == "[":
                return self.arr(tok.offset)
        found = "the end of the line" if tok.kind == "nl" else "the end of the file" if tok.kind == "eof" else repr(tok.value)
        raise BicepSyntaxError(f"expected a value, found {found}", tok.offset)

    def obj(self, offset: int) -> Obj:
        node = Obj(offset)
        while True:
            self.skip_nl()
            tok = self.peek()
            if tok.kind == "punct" and tok.value == "}":
                self.next()
                return node
            if tok.kind == "punct" and tok.value == "@":  # a decorator on a nested resource
                self.next()
                self.expr()
                continue
            if tok.kind == "name" and tok.value == "resource" and self.toks[self.i + 1].kind == "name":
                decl = self.statement()
                assert decl is not None
                node.resources.append(decl)
                continue
            if tok.kind == "punct" and tok.value == "...":  # spread: not evaluated
                self.next()
                self.expr()
                node.items.setdefault("...", (tok.offset, Opaque(tok.offset, "an object spread")))
                continue
            if tok.kind == "name":
                key = tok.value
            elif tok.kind == "str" and len(tok.value) == 1 and isinstance(tok.value[0], str):
                key = tok.value[0]
            elif tok.kind == "eof":
                raise BicepSyntaxError("unclosed '{'", offset, "close the object with }")
            else:
                raise BicepSyntaxError(f"expected a property name, found {tok.value!r}", tok.offset,
                                       "write key: value, one per line")
            self.next()
            self.expect(":")
            self.skip_nl()
            node.items[key] = (tok.offset, self.expr())
            if self.is_(","):
                self.next()
            elif not (self.peek().kind == "nl" or self.is_("}")):
                t = self.peek()
                raise BicepSyntaxError(f"expected a new line or '}}' after the value of '{key}', found "
                                       f"{'the end of the file' if t.kind == 'eof' else repr(t.value)}", t.offset)

    def arr(self, offset: int) -> Any:
        self.skip_nl()
        if self.is_("for"):
            self.next()
            index_var = None
            if self.is_("("):
                self.next()
                var = self.next().value
                self.expect(",")
                index_var = self.next().value
                self.expect(")")
            else:
                var = self.next().value
            self.expect("in")
            source = self.expr(in_parens=True)
            self.expect(":")
            self.skip_nl()
            body = self.body()
            self.expect("]", skip_nl=True)
            return For(offset, str(var), index_var, source, body)
        node = Arr(offset)
        while True:
            self.skip_nl()
            if self.is_("]"):
                self.next()
                return node
            if self.peek().kind == "eof":
                raise BicepSyntaxError("unclosed '['", offset, "close the array with ]")
            node.items.append(self.expr())
            if self.is_(","):
                self.next()


def parse_bicep(text: str) -> list[Decl]:
    """The declarations of a Bicep file.

    Raises:
        BicepSyntaxError: malformed Bicep (with the offset where parsing stopped).
    """
    try:
        toks, _ = _Lexer(text).tokens()
        return _Parser(toks).program()
    except RecursionError:
        raise BicepSyntaxError("the file nests too deeply to parse", 0, "flatten the structure") from None


class LineIndex:
    """Offsets to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


__all__ = ["Arr", "BicepSyntaxError", "Binary", "Call", "Decl", "For", "IfBody", "Index", "Interp", "LineIndex",
           "Lit", "Member", "Obj", "Opaque", "Ref", "Ternary", "Unary", "parse_bicep"]
