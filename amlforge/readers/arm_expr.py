"""A small ARM template expression evaluator: what can be known without Azure, and nothing more.

Supported: ``parameters()`` (a parameters file's value, else ``defaultValue``), ``variables()``,
``concat``, ``format``, ``resourceId``, ``toLower``, ``toUpper``, ``if``, ``equals``, ``not``,
``and``, ``or``, ``empty``, ``coalesce``, ``string``, ``int``, ``bool``, ``true()``/``false()``,
``copyIndex()`` inside a ``copy`` loop, string/integer literals, and ``.property``/``[index]``
access on known values. Every other function (``reference()``, ``listKeys()``,
``resourceGroup()``, ``uniqueString()``...) evaluates to :class:`~amlforge.readers.base.Unknown`,
and so does any function given an unknown argument: a rule never sees a guessed value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.readers.base import Unknown

#: Longest expression string evaluated (longer ones are unknown).
MAX_EXPRESSION = 20_000
#: Deepest nesting of calls and variable references followed.
MAX_EVAL_DEPTH = 40


class ArmSyntaxError(ValueError):
    """A malformed expression; ``offset`` is the character offset inside the JSON string."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class CircularError(ValueError):
    """Variables that refer to each other."""


class ResourceId(str):
    """The result of ``resourceId(type, names...)``: a string that also knows its parts."""

    type: str
    names: tuple[str, ...]

    def __new__(cls, rtype: str, names: tuple[str, ...]) -> ResourceId:
        segs = rtype.split("/")
        tail = segs[1:]
        path = "/".join(f"{t}/{n}" for t, n in zip(tail, names))
        self = super().__new__(cls, f"/subscriptions/<current>/resourceGroups/<current>/providers/{segs[0]}/{path}")
        self.type = rtype
        self.names = names
        return self


# -- tokens and syntax tree --------------------------------------------------------------------

_TOKEN = LazyPattern(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<punct>[(),.\[\]]))")


class Call(Struct, frozen=True):
    name: str
    args: tuple[Any, ...]
    offset: int


class Lit(Struct, frozen=True):
    value: Any


class Prop(Struct, frozen=True):
    target: Any
    key: Any  # str for .name, a node for [expr]


class _Parser:
    def __init__(self, text: str, base: int) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        i = 0
        while i < len(text):
            m = _TOKEN.match(text, i)
            if m is None or m.end() == i:
                if text[i:].strip() == "":
                    break
                raise ArmSyntaxError(f"unexpected character {text[i]!r} in the expression", base + i)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), base + m.start(kind)))
            i = m.end()
        self.i = 0
        self.end = base + len(text)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, punct: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != punct:
            raise ArmSyntaxError(f"expected '{punct}'" + (f", found '{tok[1]}'" if tok else " before the end"),
                                 tok[2] if tok else self.end)
        self.i += 1

    def expr(self, depth: int = 0) -> Any:
        if depth > MAX_EVAL_DEPTH:
            raise ArmSyntaxError("the expression nests too deeply", self.end)
        tok = self.peek()
        if tok is None:
            raise ArmSyntaxError("expected a value before the end of the expression", self.end)
        self.i += 1
        kind, text, offset = tok
        if kind == "str":
            node: Any = Lit(text[1:-1].replace("''", "'"))
        elif kind == "num":
            if len(text.lstrip("-").lstrip("0")) > 19:  # ARM integers are 64-bit (int() refuses 4,300 digits)
                raise ArmSyntaxError(f"the number {text[:20]}... is larger than ARM's 64-bit integers", offset)
            node = Lit(int(text))
        elif kind == "name":
            self.take("(")
            args = []
            if self.peek() is not None and self.peek()[1] == ")":  # type: ignore[index]
                self.i += 1
            else:
                while True:
                    args.append(self.expr(depth + 1))
                    nxt = self.peek()
                    if nxt is not None and nxt[1] == ",":
                        self.i += 1
                        continue
                    self.take(")")
                    break
            node = Call(text.lower(), tuple(args), offset)
        else:
            raise ArmSyntaxError(f"unexpected '{text}' in the expression", offset)
        while (tok := self.peek()) is not None and tok[1] in (".", "["):
            self.i += 1
            if tok[1] == ".":
                name = self.peek()
                if name is None or name[0] != "name":
                    raise ArmSyntaxError("expected a property name after '.'", name[2] if name else self.end)
                self.i += 1
                node = Prop(node, name[1])
            else:
                node = Prop(node, self.expr(depth + 1))
                self.take("]")
        return node


def parse_expression(text: str, base: int = 0) -> Any:
    """The syntax tree of an expression body (the text between ``[`` and ``]``)."""
    parser = _Parser(text, base)
    node = parser.expr()
    if parser.peek() is not None:
        raise ArmSyntaxError(f"unexpected '{parser.peek()[1]}' after the expression", parser.peek()[2])  # type: ignore[index]
    return node


def is_expression(value: Any) -> bool:
    """Whether a JSON string is an ARM expression (``[...]``, not the ``[[`` escape)."""
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


# -- evaluation --------------------------------------------------------------------------------


class Scope(Struct):
    """The parameters and variables visible to one template (the outer one, or a nested
    deployment with ``inner`` scope).

    Attributes:
        params: name (lower case) -> the parameter's declaration (``type``, ``defaultValue``...).
        values: name (lower case) -> value from a parameters file or a nested deployment.
        variables: name (lower case) -> raw variable value (expressions evaluated on use).
        copy_index: ``copyIndex()`` values by loop name ("" for the innermost loop).
    """

    params: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    copy_index: dict[str, int] = field(default_factory=dict)
    _var_cache: dict[str, Any] = field(default_factory=dict)
    _resolving: list[str] = field(default_factory=list)
    #: Called with a message when something is wrong in a way worth reporting (circular variables).
    report: Callable[[str], None] | None = None
    #: A parameter without a value reads as ``<name>`` (for resource names: the workspace's
    #: name is often left to deploy time, the names below it are what the rules need).
    lenient: bool = False

    def child(self, copy_index: dict[str, int]) -> Scope:
        """The same scope inside a copy loop iteration."""
        return Scope(self.params, self.values, self.variables, {**self.copy_index, **copy_index},
                     {}, self._resolving, self.report, self.lenient)

    def leniently(self) -> Scope:
        """The same scope, reading parameters without a value as ``<name>``."""
        return Scope(self.params, self.values, self.variables, self.copy_index, {}, self._resolving,
                     self.report, True)


def _unknown_in(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_unknown_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown_in(v) for v in value)
    return False


def evaluate(value: Any, scope: Scope, depth: int = 0) -> Any:
    """A JSON value with every expression string evaluated (recursively in lists and objects)."""
    if isinstance(value, str):
        if is_expression(value):
            return evaluate_string(value, scope, depth)
        if value.startswith("[["):
            return value[1:]
        return value
    if isinstance(value, dict):
        return {k: evaluate(v, scope, depth) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope, depth) for v in value]
    return value


def evaluate_string(text: str, scope: Scope, depth: int = 0) -> Any:
    """One ``[...]`` expression string.

    Raises:
        ArmSyntaxError: the expression is malformed.
    """
    if len(text) > MAX_EXPRESSION:
        return Unknown(f"expression longer than {MAX_EXPRESSION} characters")
    node = parse_expression(text[1:-1], 1)
    return _eval(node, scope, depth)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # as ARM's string(): True/False
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _eval(node: Any, scope: Scope, depth: int) -> Any:
    if depth > MAX_EVAL_DEPTH:
        return Unknown("expression nests too deeply")
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Prop):
        target = _eval(node.target, scope, depth + 1)
        key = node.key if isinstance(node.key, str) else _eval(node.key, scope, depth + 1)
        if isinstance(target, Unknown) or isinstance(key, Unknown):
            return target if isinstance(target, Unknown) else key
        if isinstance(target, dict) and isinstance(key, str):
            for k, v in target.items():
                if k.lower() == key.lower():
                    return v
            return Unknown(f"no property '{key}'")
        if isinstance(target, list) and isinstance(key, int) and 0 <= key < len(target):
            return target[key]
        return Unknown(f"cannot index with {key!r}")
    assert isinstance(node, Call)
    name = node.name
    if name == "if":
        if len(node.args) != 3:
            return Unknown("if() takes three arguments")
        cond = _eval(node.args[0], scope, depth + 1)
        if isinstance(cond, Unknown):
            return cond
        return _eval(node.args[1] if cond is True or (isinstance(cond, str) and cond.lower() == "true")
                     else node.args[2], scope, depth + 1)
    args = [_eval(a, scope, depth + 1) for a in node.args]
    if name == "parameters":
        return _parameter(args, scope, depth)
    if name == "variables":
        return _variable(args, scope, depth)
    if name == "copyindex":
        loop = next((a for a in args if isinstance(a, str)), "")
        offset = next((a for a in args if isinstance(a, int) and not isinstance(a, bool)), 0)
        index = scope.copy_index.get(loop.lower()) if loop else scope.copy_index.get("")
        return Unknown("copyIndex() outside a copy loop") if index is None else index + offset
    if name in ("coalesce",):
        for a in args:
            if isinstance(a, Unknown):
                return a
            if a is not None:
                return a
        return None
    if any(_unknown_in(a) for a in args):
        return next(a for a in args if isinstance(a, Unknown)) if any(isinstance(a, Unknown) for a in args) \
            else Unknown(f"{name}() of a value that is not known")
    function = _FUNCTIONS.get(name)
    if function is None:
        return Unknown(f"{name}() is evaluated by Azure at deployment time")
    try:
        return function(*args)
    except (TypeError, ValueError, IndexError, KeyError):
        return Unknown(f"{name}() with arguments amlforge cannot evaluate")


def _parameter(args: list[Any], scope: Scope, depth: int) -> Any:
    if len(args) != 1 or not isinstance(args[0], str):
        return Unknown("parameters() takes a name")
    key = args[0].lower()
    if isinstance(args[0], Unknown):
        return args[0]
    if key in scope.values:
        value = scope.values[key]
        if scope.lenient and isinstance(value, Unknown):
            return f"<{args[0]}>"  # a nested deployment's parameter passed a value without one
        return value
    decl = scope.params.get(key)
    if decl is None:
        return Unknown(f"parameter '{args[0]}' is not declared")
    if isinstance(decl, dict) and "defaultValue" in decl:
        value = evaluate(decl["defaultValue"], scope, depth + 1)
        if scope.lenient and isinstance(value, Unknown):
            return f"<{args[0]}>"
        return value
    if scope.lenient:
        return f"<{args[0]}>"
    return Unknown(f"parameter '{args[0]}' has no value (no parameters file entry, no defaultValue)")


def _variable(args: list[Any], scope: Scope, depth: int) -> Any:
    if len(args) != 1 or not isinstance(args[0], str) or isinstance(args[0], Unknown):
        return Unknown("variables() takes a name")
    key = args[0].lower()
    if key in scope._var_cache:
        return scope._var_cache[key]
    if key not in scope.variables:
        return Unknown(f"variable '{args[0]}' is not declared")
    if key in scope._resolving:
        chain = " -> ".join([*scope._resolving[scope._resolving.index(key):], key])
        if scope.report is not None:
            scope.report(f"variables refer to each other in a circle: {chain}")
        return Unknown(f"circular variable '{args[0]}'")
    scope._resolving.append(key)
    try:
        raw = scope.variables[key]
        if isinstance(raw, dict) and "copy" in raw and len(raw) == 1:
            value: Any = Unknown("variable copy loops are not evaluated")
        else:
            value = evaluate(raw, scope, depth + 1)
    finally:
        scope._resolving.pop()
    scope._var_cache[key] = value
    return value


def _format(fmt: str, *args: Any) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        return _text(args[int(m.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)(?::[^}]*)?\}", repl, fmt)


def _resource_id(*args: Any) -> str:
    strings = [a for a in args if isinstance(a, str)]
    # resourceId([subscriptionId], [resourceGroupName], type, names...): the type has a '/'
    at = next(i for i, a in enumerate(strings) if "/" in a and "." in a.split("/")[0])
    return ResourceId(strings[at], tuple(strings[at + 1:]))


def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(_text(a) for a in args)


def _int(value: Any) -> int:
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(value)
    return bool(value)


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a == b  # ARM: case-sensitive string comparison
    return bool(a == b)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": _concat,
    "format": _format,
    "resourceid": _resource_id,
    "tolower": lambda s: s.lower(),
    "toupper": lambda s: s.upper(),
    "equals": _equals,
    "not": lambda a: not a,
    "and": lambda *a: all(a),
    "or": lambda *a: any(a),
    "empty": lambda a: a is None or len(a) == 0,
    "string": _text,
    "int": _int,
    "bool": _bool,
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
    "length": lambda a: len(a),
    "createobject": lambda *a: {a[i]: a[i + 1] for i in range(0, len(a), 2)},
    "createarray": lambda *a: list(a),
    "array": lambda a: a if isinstance(a, list) else [a],
}


__all__ = ["ArmSyntaxError", "CircularError", "ResourceId", "Scope", "evaluate", "evaluate_string",
           "is_expression", "parse_expression"]
