"""The Jinja2 environment of the generators and one escaping filter per target language.

Every value that comes from a spec reaches a generated file through one of these filters:

========================  ===============================================================
``yaml_str``              az-ml YAML scalar: plain when YAML reads it back as the same
                          string, else double-quoted with escapes (``yaml_block`` writes a
                          whole block mapping with it)
``json_str``              JSON string (ARM parameter files)
``arm_str``               JSON string that ARM does not read as an expression (``[[``)
``ArmNames.value``        an ARM expression (``[...]``) built from :class:`Expr` values
``bicep_str``             Bicep single-quoted string (``\\'``, ``\\n``, ``\\u{5C}``...)
``bicep_expr``            a Bicep expression built from :class:`Expr` values
``docker_str``            Dockerfile ``ENV``/``LABEL`` value (double-quoted, ``$`` escaped)
``docker_json``           one item of a Dockerfile exec-form JSON array
``docker_word``           a bare Dockerfile word (``FROM`` image): checked, never quoted
``shell_quote``           a word in a ``RUN`` shell command
========================  ===============================================================

Templates are loaded from ``amlforge/templates`` with ``StrictUndefined`` (a typo in a
template fails loudly) and ``autoescape=False`` (HTML escaping is wrong for every target).
"""

from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from typing import Any

import yaml
from msgspec import Struct

from amlforge._regex import LazyPattern

# ---------------------------------------------------------------------------------------------
# Expressions shared by the ARM and Bicep generators


class Expr(Struct, frozen=True):
    """Base of the template expressions an ARM or Bicep value can hold."""


class Param(Expr, frozen=True):
    """A template parameter."""

    name: str


class Builtin(Expr, frozen=True):
    """``resourceGroup().location``, ``resourceGroup().name`` or ``subscription().subscriptionId``."""

    text: str


class ResourceRef(Expr, frozen=True):
    """The id of a resource declared in the same template (by symbolic name)."""

    symbol: str


class WorkspaceChildId(Expr, frozen=True):
    """The id of something inside the workspace: ``<workspace id>/models/iris/versions/1``."""

    segments: tuple[str, ...]


class Concat(Expr, frozen=True):
    """Literal strings and expressions joined into one string."""

    parts: tuple[Any, ...]


RESOURCE_GROUP_LOCATION = Builtin("resourceGroup().location")
RESOURCE_GROUP_NAME = Builtin("resourceGroup().name")
SUBSCRIPTION_ID = Builtin("subscription().subscriptionId")
WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"

# ---------------------------------------------------------------------------------------------
# YAML

_YAML_PLAIN = LazyPattern(r"^[A-Za-z0-9_./$][A-Za-z0-9_./@+,()%=;'!?&*$-]*(?:[ :][A-Za-z0-9_./@+,()%=;'!?&*$-]+)*\Z")
_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}
_YAML_NONPRINTABLE = LazyPattern("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff\\\\\"]")
_resolver = yaml.resolver.Resolver()


def _yaml_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _YAML_ESCAPES:
        return _YAML_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}"


def yaml_str(value: Any) -> str:
    """A YAML scalar that every YAML 1.1 reader (PyYAML, azure-ai-ml) reads back unchanged.

    Strings stay plain when that is unambiguous (``blue``, ``azureml:env:1``, ``../model``),
    and are double-quoted otherwise (``"1"``, ``"yes"``, ``"a: b"``, ``"it's #1"``).
    Numbers and booleans are written as YAML numbers and booleans.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "null"
    return _yaml_string(str(value))


@lru_cache(maxsize=8192)
def _yaml_string(text: str) -> str:
    if _YAML_PLAIN.match(text) and _resolver.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str":
        return text
    return '"' + _YAML_NONPRINTABLE.sub(_yaml_escape, text) + '"'


def yaml_block(value: dict[str, Any], indent: int = 0) -> str:
    """A YAML block mapping from plain data (mappings, lists, scalars); every key and scalar
    goes through :func:`yaml_str`. Ends with a newline (empty mappings and lists are flow ``{}``/``[]``)."""
    lines: list[str] = []
    _yaml_mapping(value, indent, lines)
    return "".join(line + "\n" for line in lines)


def _yaml_mapping(value: dict[str, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, item in value.items():
        head = f"{pad}{yaml_str(str(key))}:"
        if isinstance(item, dict) and item:
            lines.append(head)
            _yaml_mapping(item, indent + 2, lines)
        elif isinstance(item, (list, tuple)) and item:
            lines.append(head)
            for element in item:
                if isinstance(element, dict) and element:
                    sub: list[str] = []
                    _yaml_mapping(element, indent + 4, sub)
                    sub[0] = " " * (indent + 2) + "- " + sub[0][indent + 4:]
                    lines.extend(sub)
                else:
                    lines.append(f"{pad}  - {yaml_str(element)}")
        elif isinstance(item, dict):
            lines.append(head + " {}")
        elif isinstance(item, (list, tuple)):
            lines.append(head + " []")
        else:
            lines.append(f"{head} {yaml_str(item)}")


# ---------------------------------------------------------------------------------------------
# JSON and ARM


def json_str(value: Any) -> str:
    """A JSON value (strings double-quoted with JSON escapes)."""
    return json.dumps(value, ensure_ascii=False)


def arm_literal(value: str) -> str:
    """Escape a literal string so ARM does not evaluate it: ``[x]`` is written ``[[x]``."""
    if value.startswith("[") and value.endswith("]"):
        return "[" + value
    return value


def arm_str(value: Any) -> str:
    """A JSON string holding a literal ARM value."""
    if isinstance(value, str):
        return json_str(arm_literal(value))
    return json_str(value)


def _arm_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class ArmNames:
    """How the ARM generator names things: symbol -> (type, name segments below the workspace)."""

    def __init__(self, resources: dict[str, tuple[str, tuple[str, ...]]]) -> None:
        self.resources = resources

    def expr(self, value: Any) -> str:
        """The ARM expression (without brackets) for a literal or an :class:`Expr`."""
        if isinstance(value, str):
            return _arm_quote(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Param):
            return f"parameters({_arm_quote(value.name)})"
        if isinstance(value, Builtin):
            return value.text
        if isinstance(value, ResourceRef):
            type_, names = self.resources[value.symbol]
            args = ", ".join([_arm_quote(type_), "parameters('workspaceName')", *(_arm_quote(n) for n in names)])
            return f"resourceId({args})"
        if isinstance(value, WorkspaceChildId):
            kinds = value.segments[0::2]
            type_ = WORKSPACE_TYPE + "/" + "/".join(kinds)
            args = ", ".join([_arm_quote(type_), "parameters('workspaceName')", *(_arm_quote(n) for n in value.segments[1::2])])
            return f"resourceId({args})"
        if isinstance(value, Concat):
            return "concat(" + ", ".join(self.expr(p) for p in value.parts) + ")"
        raise TypeError(f"no ARM form for {value!r}")  # pragma: no cover - a generator bug

    def value(self, value: Any) -> str:
        """A JSON value: a literal, or an expression in brackets."""
        if isinstance(value, Expr):
            return json_str("[" + self.expr(value) + "]")
        return arm_str(value)


# ---------------------------------------------------------------------------------------------
# Bicep

# A backslash is written \u{5C} and the "${" that would start an interpolation \u{24}{: both are
# standard Bicep escapes, and unlike "\\" and "\${" they cannot be misread by tokenisers that
# treat "\'" as an escaped quote (pycep-parser, the test oracle, is one).
_BICEP_ESCAPES = {"\\": "\\u{5C}", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "${": "\\u{24}{"}
_BICEP_SPECIAL = LazyPattern("\\$\\{|[\\\\'\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BICEP_IDENTIFIER = LazyPattern(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


def _bicep_escape_text(value: str) -> str:
    def repl(match: re.Match[str]) -> str:
        char = match.group()
        return _BICEP_ESCAPES.get(char) or "\\u{" + f"{ord(char):X}" + "}"

    return _BICEP_SPECIAL.sub(repl, value)


def bicep_str(value: Any) -> str:
    """A Bicep literal: a single-quoted string with escapes, or a number or boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    return "'" + _bicep_escape_text(str(value)) + "'"


#: Words that read as something else where an object key is expected: the literals (`null: ''`
#: parses as the null literal) and the control keywords of expressions. Declaration keywords
#: such as `type`, `resource` or `metadata` are ordinary property names in Bicep and stay bare.
_BICEP_KEYWORDS = frozenset({"null", "true", "false", "if", "for", "in", "as", "with", "existing", "import",
                             "func", "using", "assert"})


def bicep_key(value: str) -> str:
    """An object key: bare when it is an identifier that is not a keyword, quoted otherwise."""
    if _BICEP_IDENTIFIER.match(value) and value not in _BICEP_KEYWORDS:
        return value
    return bicep_str(value)


def bicep_expr(value: Any) -> str:
    """The Bicep form of a literal or an :class:`Expr`."""
    if isinstance(value, Expr):
        if isinstance(value, Param):
            return value.name
        if isinstance(value, Builtin):
            return value.text
        if isinstance(value, ResourceRef):
            return f"{value.symbol}.id"
        if isinstance(value, WorkspaceChildId):
            return bicep_expr(Concat((ResourceRef("ws"), "/" + "/".join(value.segments))))
        if isinstance(value, Concat):
            out = []
            for part in value.parts:
                out.append(_bicep_escape_text(part) if isinstance(part, str) else "${" + bicep_expr(part) + "}")
            return "'" + "".join(out) + "'"
        raise TypeError(f"no Bicep form for {value!r}")  # pragma: no cover - a generator bug
    return bicep_str(value)


# ---------------------------------------------------------------------------------------------
# Dockerfile


def docker_str(value: Any) -> str:
    """A double-quoted Dockerfile ``ENV``/``LABEL`` value; ``$`` is escaped so nothing expands."""
    text = str(value)
    if re.search(r"[\x00-\x1f\x7f]", text):
        raise ValueError("a Dockerfile value cannot hold a line break")  # the spec rejects these first
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def docker_word(value: Any) -> str:
    """A bare Dockerfile word (``FROM`` image, ``WORKDIR``): refused unless it needs no quoting."""
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9_./:@+-]+", text):
        raise ValueError(f"{text!r} cannot be written unquoted in a Dockerfile")  # the spec rejects these first
    return text


def docker_json(value: Any) -> str:
    """One item of an exec-form (JSON array) instruction."""
    return json.dumps(str(value))


def shell_quote(value: Any) -> str:
    """A word in a POSIX shell command."""
    return shlex.quote(str(value))


# ---------------------------------------------------------------------------------------------


def iso_duration_ms(milliseconds: int) -> str:
    """ISO 8601 duration as azure-ai-ml sends it: 5000 -> PT5S, 90000 -> PT1M30S, 500 -> PT0.5S."""
    if milliseconds == 0:
        return "PT0S"
    sign = "-" if milliseconds < 0 else ""
    ms = abs(milliseconds)
    days, ms = divmod(ms, 86_400_000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    out = sign + "P" + (f"{days}D" if days else "")
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or ms:
        frac = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")[1:] if ms else ""
        time += f"{seconds}{frac}S"
    return out + ("T" + time if time else "")


def iso_duration_s(seconds: int) -> str:
    """ISO 8601 duration of whole seconds (probe settings): 10 -> PT10S."""
    return iso_duration_ms(seconds * 1000)


def identifier(name: str) -> str:
    """``sklearn-env`` -> ``sklearn_env``: a name usable as a Bicep identifier."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return text if re.match(r"^[A-Za-z_]", text) else "_" + text


def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict)


def _is_expr(value: Any) -> bool:
    return isinstance(value, Expr)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


@lru_cache(maxsize=1)
def environment() -> Any:
    """The shared Jinja2 environment (templates from the package, strict, no autoescape)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("amlforge", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "yaml_str": yaml_str,
        "yaml_block": yaml_block,
        "json_str": json_str,
        "arm_str": arm_str,
        "bicep_str": bicep_str,
        "bicep_key": bicep_key,
        "bicep_expr": bicep_expr,
        "docker_str": docker_str,
        "docker_json": docker_json,
        "docker_word": docker_word,
        "shell_quote": shell_quote,
    })
    env.tests.update({"mapping_value": _is_mapping, "expr": _is_expr, "sequence_value": _is_sequence})
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of ``amlforge/templates``."""
    return environment().get_template(template).render(**context)


__all__ = [
    "ArmNames",
    "Builtin",
    "Concat",
    "Expr",
    "Param",
    "RESOURCE_GROUP_LOCATION",
    "RESOURCE_GROUP_NAME",
    "ResourceRef",
    "SUBSCRIPTION_ID",
    "WorkspaceChildId",
    "arm_literal",
    "arm_str",
    "bicep_expr",
    "bicep_key",
    "bicep_str",
    "docker_json",
    "docker_str",
    "docker_word",
    "environment",
    "identifier",
    "iso_duration_ms",
    "iso_duration_s",
    "json_str",
    "render",
    "shell_quote",
    "yaml_block",
    "yaml_str",
]
