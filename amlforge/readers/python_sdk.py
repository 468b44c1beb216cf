"""The Python reader: azure-ai-ml entities built in a ``.py`` file, read without running it.

The module's ``ast`` is walked statement by statement, in order, with a small evaluator that
knows literals, names bound earlier (constants, f-strings of known parts, dicts, lists, simple
arithmetic), the azure-ai-ml entity constructors (``ManagedOnlineDeployment(...)``,
``Environment(...)``, ``ProbeSettings(...)``, ...), ``load_online_deployment("x.yml")`` and
friends, and attribute or item assignments on entities (``endpoint.traffic = {...}``,
``endpoint.traffic["blue"] = 90``, ``deployment.instance_count = 3``). Anything else (a function
result, a loop variable, a parameter, a name bound in one branch of an ``if``) is *unknown*: its
path is recorded in ``SourceMap.unknown`` with the reason, and no rule reports at it.

Each deployment, endpoint, and each environment or model that no deployment holds, becomes one
document of the az-ml YAML shape (keyword names mapped to YAML keys: ``code_path=`` and
``scoring_script=`` become ``code_configuration``, ``DefaultScaleSettings()`` becomes
``{type: default}``, ...). Its source map points at the exact expressions in the file, and its
path is the ``.py`` file, so relative paths (``code``, ``conda_file``, a model ``path``)
resolve against the file's folder, as azure-ai-ml resolves them against the working folder a
notebook runs in.

The notebook reader (``readers/notebook.py``) feeds the code cells of a notebook through the
same :class:`Extractor`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult, Unknown
from amlforge.specs.project import Document
from amlforge.specs.source import SourceMap, YamlPath, read_text

#: Text that any file using azure-ai-ml contains (its imports); files without it are not parsed.
SDK_MARKERS = ("azure.ai.ml", "azure-ai-ml")
_SDK_MODULE = "azure.ai.ml"

#: Entity classes: YAML family, and the keyword names that map to YAML keys (others dropped).
_DEPLOYMENT_KEYS = (
    "name", "endpoint_name", "description", "tags", "properties", "model", "model_mount_path",
    "code_configuration", "environment", "environment_variables", "instance_count", "app_insights_enabled",
    "scale_settings", "request_settings", "liveness_probe", "readiness_probe", "data_collector",
    "instance_type",
)
_ENDPOINT_KEYS = ("name", "description", "tags", "properties", "auth_mode", "identity", "traffic",
                  "mirror_traffic", "location", "kind")
ENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ManagedOnlineEndpoint": ("managed_endpoint", _ENDPOINT_KEYS + ("public_network_access",)),
    "KubernetesOnlineEndpoint": ("kubernetes_endpoint", _ENDPOINT_KEYS + ("compute",)),
    "ManagedOnlineDeployment": ("managed_deployment", _DEPLOYMENT_KEYS + ("egress_public_network_access",)),
    "KubernetesOnlineDeployment": ("kubernetes_deployment", _DEPLOYMENT_KEYS + ("resources",)),
    "Environment": ("environment", ("name", "version", "description", "tags", "properties", "image",
                                    "conda_file", "build", "os_type", "inference_config", "datastore")),
    "Model": ("model", ("name", "version", "type", "path", "description", "tags", "properties", "stage",
                        "flavors", "datastore")),
    "BuildContext": ("", ("path", "dockerfile_path")),
    "CodeConfiguration": ("", ("code", "scoring_script")),
    "ProbeSettings": ("", ("failure_threshold", "success_threshold", "timeout", "period", "initial_delay")),
    "OnlineRequestSettings": ("", ("max_concurrent_requests_per_instance", "request_timeout_ms",
                                   "max_queue_wait_ms")),
    "OnlineScaleSettings": ("", ("type",)),
    "DefaultScaleSettings": ("", ()),
    "TargetUtilizationScaleSettings": ("", ("min_instances", "max_instances", "polling_interval",
                                            "target_utilization_percentage")),
    "ResourceRequirementsSettings": ("", ("requests", "limits")),
    "ResourceSettings": ("", ("cpu", "memory", "gpu")),
    "IdentityConfiguration": ("", ("type", "user_assigned_identities")),
    "ManagedIdentityConfiguration": ("", ("client_id", "resource_id", "object_id", "principal_id")),
    "DataCollector": ("", ("collections", "rolling_rate", "sampling_rate", "request_logging")),
    "DeploymentCollection": ("", ("enabled", "data", "client_id")),
    "RequestLogging": ("", ("capture_headers",)),
}
#: Positional parameters, for the constructors that take any.
_POSITIONAL = {
    "CodeConfiguration": ("code", "scoring_script"),
    "OnlineRequestSettings": ("max_concurrent_requests_per_instance", "request_timeout_ms", "max_queue_wait_ms"),
    "OnlineScaleSettings": ("type",),
    "ResourceRequirementsSettings": ("requests", "limits"),
    "ResourceSettings": ("cpu", "memory", "gpu"),
    "DataCollector": ("collections",),
}
#: ``type`` the YAML form spells out for classes whose type is their name.
_FIXED = {
    "DefaultScaleSettings": {"type": "default"},
    "TargetUtilizationScaleSettings": {"type": "target_utilization"},
    "KubernetesOnlineDeployment": {"type": "kubernetes"},
}
_LOADERS = {"load_online_deployment": "deployment", "load_online_endpoint": "endpoint",
            "load_environment": "environment", "load_model": "model"}
#: ``azure.ai.ml.constants`` enums samples use (``AssetTypes.MLFLOW_MODEL``).
_CONSTANTS = {
    "AssetTypes": {"CUSTOM_MODEL": "custom_model", "MLFLOW_MODEL": "mlflow_model",
                   "TRITON_MODEL": "triton_model", "URI_FILE": "uri_file", "URI_FOLDER": "uri_folder",
                   "MLTABLE": "mltable"},
    "ModelType": {"CUSTOM": "custom_model", "MLFLOW": "mlflow_model", "TRITON": "triton_model"},
}
_SUBMIT = ("begin_create_or_update", "create_or_update")
#: Bounds on what the reader computes: a file that doubles a string, a list or a number in a
#: loop of assignments (``s = s + s`` sixty times) must not take the machine's memory. A value
#: past them is one "known only at run time" (a real deployment's values are far smaller).
_MAX_TEXT = 65_536
_MAX_ITEMS = 10_000
_MAX_BITS = 4_096
#: Nodes one document may expand to: ``d = {"a": d, "b": d}`` forty times over is a small
#: file and a tree of 2**40 nodes.
_MAX_NODES = 100_000


def _too_big(op: ast.operator, a: str | int | float, b: str | int | float) -> bool:
    """Whether ``a op b`` would be past the reader's bounds, judged before computing it."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and len(a) + len(b) > _MAX_TEXT
    if not isinstance(a, int) or not isinstance(b, int):
        return False  # float arithmetic overflows to inf or raises, in constant time
    if isinstance(op, ast.Mult):
        return a.bit_length() + b.bit_length() > _MAX_BITS
    if isinstance(op, ast.Pow):
        return b > 0 and a.bit_length() * b > _MAX_BITS
    return max(a.bit_length(), b.bit_length()) > _MAX_BITS

Pos = tuple[int, int]


class Value(Struct, eq=False):
    """An evaluated expression: a scalar, ``dict[str, Value]``, ``list[Value]``, an
    :class:`Entity` or an :class:`Unknown`, with where the expression starts and, for a dict,
    where each key starts."""

    value: Any
    pos: Pos
    keypos: dict[str, Pos] = field(default_factory=dict)


class Entity(Struct, eq=False):
    """One azure-ai-ml object built in the source (a constructor call or a ``load_*`` call)."""

    cls: str
    pos: Pos
    kwargs: dict[str, Value] = field(default_factory=dict)
    keypos: dict[str, Pos] = field(default_factory=dict)
    #: For ``load_*``: the YAML document it loaded, and where the call named the file.
    loaded: Document | None = None
    submitted: bool = False
    #: Only ever submitted with ``local=True`` (a local endpoint in Docker, never deployed to Azure).
    local: bool = False
    held: bool = False  # used as a value inside another entity

    @property
    def kind(self) -> str:
        if self.loaded is not None:
            return self.loaded.kind
        return ENTITIES[self.cls][0]


def _unknown(why: str, pos: Pos) -> Value:
    return Value(Unknown(why), pos)


def _short(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed tree
        return "an expression"
    return text if len(text) <= 60 else text[:57] + "..."


class Extractor:
    """Walks one or several ``ast.Module`` trees (a file, or a notebook's cells in order) and
    collects the azure-ai-ml entities they build.

    Args:
        path: The source file (relative paths of ``load_*`` calls resolve against its folder).
        display: The file as shown to the user.
        options: Load options (size limit, variables for the YAML that ``load_*`` names).
        lines: The text the positions count lines of (to turn byte offsets into columns).
    """

    def __init__(self, path: Path, display: str, options: LoadOptions, lines: list[str]) -> None:
        self.path = path
        self.display = display
        self.options = options
        self.lines = lines
        self.names: dict[str, Value] = {}
        self.imports: dict[str, str] = {}  # local name -> qualified name
        self.entities: list[Entity] = []
        self.problems: list[LoadProblem] = []
        self.line_offset = 0
        self.uses_sdk = False
        #: The entity a name held before it was rebound to a value known only at run time (such
        #: as ``endpoint = ml_client.online_endpoints.get(name)``): what is set on the name
        #: afterwards changes the deployed resource in ways not known statically.
        self.fetched: dict[str, Entity] = {}
        #: While a document's data is built: the containers being expanded (a value that holds
        #: itself is not followed) and how many more nodes it may have (see _MAX_NODES).
        self._expanding: set[int] = set()
        self._budget = _MAX_NODES

    # -- positions ------------------------------------------------------------------------

    def unknown(self, why: str, pos: Pos) -> Value:
        """An unknown value; its text names where it was made, so that two files' unknown
        values never compare equal (an endpoint name, for one, groups deployments)."""
        where = f", {self.display}:{pos[0]}" if pos[0] else ""
        return Value(Unknown(f"{why}{where}"), pos)

    def short(self, node: ast.AST) -> str:
        """The source text of an expression, shortened (its first line, at most 60 characters)."""
        line = getattr(node, "lineno", 0) + self.line_offset
        if not 0 < line <= len(self.lines):
            return _short(node)
        text = self.lines[line - 1]
        if not text.isascii():
            return _short(node)
        start = getattr(node, "col_offset", 0)
        same_line = getattr(node, "end_lineno", None) == getattr(node, "lineno", None)
        end = getattr(node, "end_col_offset", None) if same_line else None
        piece = text[start:end] if end is not None else text[start:].rstrip() + " ..."
        return piece if len(piece) <= 60 else piece[:57] + "..."

    def pos(self, node: ast.AST) -> Pos:
        line = getattr(node, "lineno", 1) + self.line_offset
        col = getattr(node, "col_offset", 0)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if col and not text.isascii():  # ast counts UTF-8 bytes
            col = len(text.encode("utf-8")[:col].decode("utf-8", "replace"))
        return line, col + 1

    def attr_pos(self, node: ast.Attribute) -> Pos:
        end_line = (node.end_lineno or node.lineno) + self.line_offset
        end = node.end_col_offset or 0
        text = self.lines[end_line - 1] if 0 < end_line <= len(self.lines) else ""
        if not text.isascii():
            end = len(text.encode("utf-8")[:end].decode("utf-8", "replace"))
        return end_line, max(1, end - len(node.attr) + 1)

    # -- statements -----------------------------------------------------------------------

    def run(self, module: ast.Module, line_offset: int = 0) -> None:
        """Walk one module (or notebook cell) whose line 1 is line ``line_offset + 1``."""
        self.line_offset = line_offset
        self.block(module.body, certain=True)

    def block(self, body: list[ast.stmt], certain: bool) -> None:
        for stmt in body:
            self.stmt(stmt, certain)

    def stmt(self, stmt: ast.stmt, certain: bool) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    self.imports[alias.name.split(".")[0]] = alias.name.split(".")[0]
                self.uses_sdk |= alias.name.startswith(_SDK_MODULE)
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            self.uses_sdk |= module.startswith(_SDK_MODULE)
            for alias in stmt.names:
                if alias.name == "*":
                    if module.startswith(_SDK_MODULE):
                        for name in (*ENTITIES, *_LOADERS, *_CONSTANTS):
                            self.imports[name] = f"{module}.{name}"
                    continue
                self.imports[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value)
            for target in stmt.targets:
                self.assign(target, value, certain)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.expr(stmt.value), certain)
        elif isinstance(stmt, ast.AugAssign):
            if isinstance(stmt.target, ast.Name):
                current = self.names.get(stmt.target.id)
                value = self.binop(stmt.op, current, self.expr(stmt.value), stmt) if current is not None \
                    else self.unknown(f"{stmt.target.id} is not known here", self.pos(stmt.value))
                self.assign(stmt.target, value, certain)
            else:
                self.assign(stmt.target, self.unknown(f"{self.short(stmt)} is computed at run time",
                                                  self.pos(stmt.value)), certain)
        elif isinstance(stmt, ast.Expr):
            self.expr(stmt.value)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.function(inner)
        elif isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test):
                self.block(stmt.body, certain)
                return
            self.expr(stmt.test)
            self.branches([stmt.body, stmt.orelse])
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                value = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, self.unknown(
                        f"{self.short(item.optional_vars)} is what a context manager returns", value.pos), certain)
            self.block(stmt.body, certain)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.block(stmt.body, certain)  # the path that does not fail
            self.branches([h.body for h in stmt.handlers] + [stmt.orelse])
            self.block(stmt.finalbody, certain)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                self.expr(stmt.iter)
                self.assign(stmt.target, self.unknown(f"{self.short(stmt.target)} is a loop variable",
                                                  self.pos(stmt.target)), False)
            self.branches([stmt.body, stmt.orelse])
        elif isinstance(stmt, ast.Return) and stmt.value is not None:
            self.expr(stmt.value)
        elif type(stmt).__name__ == "Match":
            self.branches([case.body for case in stmt.cases])  # type: ignore[attr-defined]

    def branches(self, bodies: list[list[ast.stmt]]) -> None:
        """Walk bodies that may or may not run: entities built there count, names bound
        there become unknown after them."""
        before = dict(self.names)
        bound: set[str] = set()
        for body in bodies:
            self.names = dict(before)
            self.block(body, certain=False)
            bound |= {n for n, v in self.names.items() if before.get(n) is not v}
        self.names = before
        for name in bound:
            self.names[name] = self.unknown(f"{name} is bound in a branch or loop", (0, 0))

    def function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A function body is walked once, its parameters unknown; names it binds stay local."""
        outer = dict(self.names)
        args = fn.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                self.names[arg.arg] = self.unknown(f"{arg.arg} is a parameter of {fn.name}()", self.pos(arg))
        self.block(fn.body, certain=True)
        self.names = outer
        self.names[fn.name] = self.unknown(f"{fn.name} is a function", self.pos(fn))

    def assign(self, target: ast.expr, value: Value, certain: bool) -> None:
        if isinstance(target, ast.Name):
            old = self.names.get(target.id)
            if old is not None and isinstance(old.value, Entity) and isinstance(value.value, Unknown):
                self.fetched[target.id] = old.value
            elif isinstance(value.value, Entity):
                self.fetched.pop(target.id, None)
            self.names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.value if isinstance(value.value, list) and len(value.value) == len(target.elts) else None
            for i, elt in enumerate(target.elts):
                self.assign(elt, items[i] if items else self.unknown(
                    f"{self.short(elt)} is unpacked at run time", self.pos(elt)), certain)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value)
            if isinstance(owner.value, Unknown) and isinstance(target.value, ast.Name) and \
                    target.value.id in self.fetched:
                entity = self.fetched[target.value.id]
                entity.kwargs[target.attr] = self.unknown(
                    f"{target.attr} is set later on {target.value.id}, which then holds an object known only at "
                    "run time", value.pos)
                entity.keypos[target.attr] = self.attr_pos(target)
            elif isinstance(owner.value, Entity):
                entity = owner.value
                if not certain:
                    value = self.unknown(f"{target.attr} is set in a branch or loop", value.pos)
                entity.kwargs[target.attr] = value
                entity.keypos[target.attr] = self.attr_pos(target)
        elif isinstance(target, ast.Subscript):
            owner = self.expr(target.value)
            key = self.expr(target.slice)
            base = target.value
            if (isinstance(owner.value, Unknown) and isinstance(base, ast.Attribute)
                    and isinstance(base.value, ast.Name) and base.value.id in self.fetched):
                self.assign(base, self.unknown("set on a fetched object", value.pos), certain)
            elif isinstance(owner.value, dict):
                if isinstance(key.value, str) and not isinstance(key.value, Unknown) and certain:
                    owner.value[key.value] = value
                    owner.keypos[key.value] = key.pos
                else:  # which key is set is not known: the whole mapping is not
                    owner.value = Unknown(f"{self.short(target)} is set with a key known only at run time")
        elif isinstance(target, ast.Starred):
            self.assign(target.value, self.unknown("starred assignment", self.pos(target)), certain)

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node: ast.expr) -> Value:
        pos = self.pos(node)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, (str, int, float, bool)) or value is None:
                return Value(value, pos)
            return self.unknown(f"{self.short(node)} is not a plain value", pos)
        if isinstance(node, ast.Name):
            bound = self.names.get(node.id)
            if bound is not None:
                return bound if bound.pos != (0, 0) else Value(bound.value, pos)
            return self.unknown(f"{node.id} is not bound to a value known statically", pos)
        if isinstance(node, ast.Dict):
            out: dict[str, Value] = {}
            keypos: dict[str, Pos] = {}
            for k, v in zip(node.keys, node.values):
                value = self.expr(v)
                if k is None:  # {**other}
                    if isinstance(value.value, dict):
                        out.update(value.value)
                        keypos.update(value.keypos)
                        continue
                    return self.unknown(f"{self.short(node)} unpacks a mapping known only at run time", pos)
                key = self.expr(k)
                if isinstance(key.value, Unknown) or not isinstance(key.value, (str, int, float, bool)):
                    return self.unknown(f"a key of {self.short(node)} is known only at run time", pos)
                name = str(key.value).lower() if isinstance(key.value, bool) else str(key.value)
                out[name] = value
                keypos[name] = key.pos
            return Value(out, pos, keypos)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self.expr(elt.value)
                    if not isinstance(inner.value, list):
                        return self.unknown(f"{self.short(node)} unpacks a list known only at run time", pos)
                    if len(items) + len(inner.value) > _MAX_ITEMS:
                        return self.unknown(f"{self.short(node)} is too long to follow statically", pos)
                    items.extend(inner.value)
                else:
                    items.append(self.expr(elt))
            return Value(items, pos)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, pos)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.expr(node.left), self.expr(node.right), node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.expr(node.operand)
            if isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return Value(-inner.value, pos)
            return self.unknown(f"{self.short(node)} is computed at run time", pos)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, pos)
        if isinstance(node, ast.Subscript):
            owner = self.expr(node.value)
            key = self.expr(node.slice)
            if isinstance(owner.value, dict) and isinstance(key.value, str) and key.value in owner.value:
                return owner.value[key.value]
            if (isinstance(owner.value, list) and isinstance(key.value, int) and not isinstance(key.value, bool)
                    and -len(owner.value) <= key.value < len(owner.value)):
                return owner.value[key.value]
            return self.unknown(f"{self.short(node)} is known only at run time", pos)
        if isinstance(node, ast.Call):
            return self.call(node, pos)
        if isinstance(node, ast.NamedExpr):
            value = self.expr(node.value)
            self.assign(node.target, value, True)
            return value
        # comprehensions, lambdas, conditionals, awaits, ...: still walk calls inside them
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
        return self.unknown(f"{self.short(node)} is computed at run time", pos)

    def fstring(self, node: ast.JoinedStr, pos: Pos) -> Value:
        parts: list[str] = []
        size = 0  # of parts, kept as they are added (a sum per part was quadratic)
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                size += len(parts[-1])
                continue
            assert isinstance(part, ast.FormattedValue)
            inner = self.expr(part.value)
            value = inner.value
            if (isinstance(value, Unknown) or part.conversion not in (-1, 115) or part.format_spec is not None
                    or not isinstance(value, (str, int, float)) or isinstance(value, bool)):
                return self.unknown(f"{self.short(node)} formats a value known only at run time", pos)
            parts.append(str(value))
            size += len(parts[-1])
            if size > _MAX_TEXT:
                return self.unknown(f"{self.short(node)} is too long to follow statically", pos)
        return Value("".join(parts), pos)

    def binop(self, op: ast.operator, left: Value, right: Value, node: ast.AST) -> Value:
        pos = self.pos(node) if not isinstance(node, ast.AugAssign) else self.pos(node.value)
        a, b = left.value, right.value
        known = (str, int, float)
        if (isinstance(a, known) and isinstance(b, known) and not isinstance(a, (Unknown, bool))
                and not isinstance(b, (Unknown, bool))):
            try:
                if _too_big(op, a, b):
                    return self.unknown(f"{self._operation(node)} is too large to follow statically", pos)
                if isinstance(op, ast.Add) and (isinstance(a, str) == isinstance(b, str)):
                    return Value(a + b, pos)  # type: ignore[operator]
                if not isinstance(a, str) and not isinstance(b, str):
                    ops = {ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
                           ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b,
                           ast.Pow: lambda: a ** b if abs(b) <= 64 else None}
                    fn = ops.get(type(op))
                    result = fn() if fn else None
                    if result is not None:
                        return Value(result, pos)
            except (ArithmeticError, ValueError, TypeError):
                pass
        return self.unknown(f"{self._operation(node)} is computed at run time", pos)

    def _operation(self, node: ast.AST) -> str:
        """How an arithmetic operation is quoted in an unknown value's reason."""
        return self.short(node.value) if isinstance(node, ast.AugAssign) else self.short(node)

    def qualified(self, node: ast.expr) -> str | None:
        """The imported name an expression refers to (``azure.ai.ml.entities.Model``), if any."""
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return None
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def attribute(self, node: ast.Attribute, pos: Pos) -> Value:
        qual = self.qualified(node)
        if qual and qual.startswith(_SDK_MODULE):
            parts = qual.split(".")
            if len(parts) >= 2 and parts[-2] in _CONSTANTS and parts[-1] in _CONSTANTS[parts[-2]]:
                return Value(_CONSTANTS[parts[-2]][parts[-1]], pos)
        owner = self.expr(node.value)
        if isinstance(owner.value, Entity):
            entity = owner.value
            if node.attr in entity.kwargs:
                return entity.kwargs[node.attr]
            if entity.loaded is not None and node.attr in entity.loaded.data and not isinstance(
                    entity.loaded.data[node.attr], (dict, list)):
                return Value(entity.loaded.data[node.attr], pos)
        return self.unknown(f"{self.short(node)} is known only at run time", pos)

    def call(self, node: ast.Call, pos: Pos) -> Value:
        qual = self.qualified(node.func)
        name = qual.rsplit(".", 1)[-1] if qual else None
        if qual and qual.startswith(_SDK_MODULE) and name in ENTITIES:
            return Value(self.construct(name, node, pos), pos)
        if qual and qual.startswith(_SDK_MODULE) and name in _LOADERS:
            return self.load(name, node, pos)
        if qual == "builtins.dict" or (isinstance(node.func, ast.Name) and node.func.id == "dict"
                                        and "dict" not in self.names and not node.args):
            out = {}
            keypos = {}
            for kw in node.keywords:
                if kw.arg is None:
                    return self.unknown(f"{self.short(node)} unpacks a mapping known only at run time", pos)
                out[kw.arg] = self.expr(kw.value)
                keypos[kw.arg] = self.pos(kw)
            return Value(out, pos, keypos)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _SUBMIT:
            owner = func.value
            collection = owner.attr if isinstance(owner, ast.Attribute) else ""
            local = any(kw.arg == "local" and isinstance(kw.value, ast.Constant) and kw.value.value is True
                        for kw in node.keywords)
            submitted: list[Entity] = []
            for arg in [*node.args, *(kw.value for kw in node.keywords if kw.arg in ("endpoint", "deployment",
                                                                                   "entity", None))]:
                value = self.expr(arg)
                if isinstance(value.value, Entity) and collection in (
                        "online_endpoints", "online_deployments", "environments", "models", ""):
                    entity = value.value
                    entity.local = local and not entity.submitted
                    entity.submitted = entity.submitted or not local
                    submitted.append(entity)
            if len(submitted) == 1 and collection in ("online_endpoints", "online_deployments"):
                # the poller's result() is the resource as deployed: the entity itself, for what
                # the code sets on it next (x = client.online_deployments.begin_create_or_update(x).result())
                return Value(submitted[0], pos)
            return self.unknown(f"{self.short(node)} is the result of a call", pos)
        if isinstance(func, ast.Attribute) and func.attr in ("result", "wait") and not node.args:
            owner_value = self.expr(func.value)
            if isinstance(owner_value.value, Entity):
                return owner_value
        if (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute)
                and func.value.attr in ("online_endpoints", "online_deployments")):
            fetched = self.fetch(func.value.attr, node)
            if fetched is not None:
                return Value(fetched, pos)
        for arg in node.args:
            self.expr(arg.value if isinstance(arg, ast.Starred) else arg)
        for kw in node.keywords:
            self.expr(kw.value)
        if not isinstance(func, ast.Name):
            self.expr(func)
        return self.unknown(f"{self.short(node)} is the result of a call", pos)

    def fetch(self, collection: str, node: ast.Call) -> Entity | None:
        """``ml_client.online_endpoints.get(name=X)``: the endpoint (or deployment) this code
        built with that name, when the name is known (the resource as this code deployed it)."""
        family = "endpoint" if collection == "online_endpoints" else "deployment"
        args = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        name_node = args.get("name") or (node.args[0] if node.args else None)
        if name_node is None:
            return None
        name = self.expr(name_node).value
        if not isinstance(name, str) or isinstance(name, Unknown):
            return None
        for entity in reversed(self.entities):
            if entity.kind.endswith(family) and not entity.local:
                value = entity.kwargs.get("name")
                if value is not None and value.value == name:
                    return entity
        return None

    def construct(self, cls: str, node: ast.Call, pos: Pos) -> Entity:
        entity = Entity(cls, pos)
        self.uses_sdk = True
        positional = _POSITIONAL.get(cls, ())
        for i, arg in enumerate(node.args):
            value = self.expr(arg)
            if i < len(positional) and not isinstance(arg, ast.Starred):
                entity.kwargs[positional[i]] = value
                entity.keypos[positional[i]] = value.pos
        for kw in node.keywords:
            value = self.expr(kw.value)
            if kw.arg is None:
                if isinstance(value.value, dict):
                    entity.kwargs.update(value.value)
                    entity.keypos.update(value.keypos)
                else:
                    entity.kwargs["**"] = self.unknown(f"{self.short(kw.value)} is unpacked at run time", value.pos)
                continue
            entity.kwargs[kw.arg] = value
            entity.keypos[kw.arg] = self.pos(kw)
        self.entities.append(entity)
        return entity

    def load(self, loader: str, node: ast.Call, pos: Pos) -> Value:
        """``load_online_deployment("x.yml", params_override=[...])``: the YAML it names, read by
        the YAML reader, as an entity whose keyword overrides and later assignments apply."""
        from amlforge.readers.azml_yaml import READER as YAML

        source = node.args[0] if node.args else next((kw.value for kw in node.keywords if kw.arg == "source"), None)
        named = self.expr(source) if source is not None else None
        if named is None or not isinstance(named.value, str) or isinstance(named.value, Unknown):
            return self.unknown(f"{self.short(node)} loads a file known only at run time", pos)
        target = Path(self.path.parent, named.value)
        from amlforge.specs.loader import display_path

        read = YAML.read(target, display_path(target), True, self.options)
        if not read.documents:
            for problem in read.problems:
                self.problems.append(LoadProblem(
                    problem.code, self.locate(named.pos),
                    f"{loader}({named.value!r}): {problem.location}: {problem.message}", problem.hint))
            return self.unknown(f"{self.short(node)} could not be read", pos)
        entity = Entity(loader, pos, loaded=read.documents[0])
        self.uses_sdk = True
        for kw in node.keywords:
            if kw.arg == "params_override":
                value = self.expr(kw.value)
                overrides = value.value if isinstance(value.value, list) else None
                if overrides is None:
                    entity.kwargs["**"] = self.unknown(f"{self.short(kw.value)} overrides values at run time", value.pos)
                    continue
                for item in overrides:
                    if isinstance(item.value, dict):
                        for key, v in item.value.items():
                            entity.kwargs[key] = v
                            entity.keypos[key] = item.keypos.get(key, v.pos)
        self.entities.append(entity)
        return Value(entity, pos)

    def locate(self, pos: Pos) -> Location:
        return Location(self.display, pos[0], pos[1])

    # -- documents ------------------------------------------------------------------------

    def documents(self, smap_factory: Any, explicit: bool) -> list[Document]:
        """One document per deployment and endpoint (the last entity of each name), and per
        environment or model that no other entity holds."""
        for entity in self.entities:
            for value in entity.kwargs.values():
                _mark_held(value)
        chosen: dict[tuple[str, str], Entity] = {}
        for n, entity in enumerate(self.entities):
            kind = entity.kind
            if not kind or (entity.held and kind in ("environment", "model")) or entity.local:
                continue
            name_value = entity.kwargs.get("name")
            name = name_value.value if name_value is not None else (
                entity.loaded.data.get("name") if entity.loaded is not None else None)
            key = (kind.rsplit("_", 1)[-1], str(name) if isinstance(name, str) else f"#{n}")
            chosen.pop(key, None)
            chosen[key] = entity  # the later entity of a name is what the file deploys last
        docs = []
        for entity in chosen.values():
            smap: SourceMap = smap_factory()
            if entity.loaded is not None:
                docs.append(self._loaded_document(entity, smap))
                continue
            smap.values[()] = entity.pos  # what a document-level problem points at: the constructor call
            self._expanding, self._budget = {id(entity)}, _MAX_NODES
            data = self._entity_data(entity, (), smap)
            docs.append(Document(self.path, self.display, entity.kind, data, smap, explicit=explicit))
        return docs

    def _loaded_document(self, entity: Entity, smap: SourceMap) -> Document:
        """A ``load_*`` document: the YAML's own, with the Python overrides set over it."""
        doc = entity.loaded
        assert doc is not None
        self._expanding, self._budget = {id(entity)}, _MAX_NODES
        for key, value in entity.kwargs.items():
            if key == "**":
                doc.source.unknown[()] = str(value.value)
                continue
            keys = [key] if "." not in key else key.split(".")
            target = doc.data
            for part in keys[:-1]:
                target = target.setdefault(part, {}) if isinstance(target, dict) else {}
            if isinstance(target, dict):
                target[keys[-1]] = self._plain(value, tuple(keys), doc.source, located=False)
                where = self.locate(value.pos)
                doc.source.overrides[tuple(keys)] = f"set in {where}"
        return doc

    def _entity_data(self, entity: Entity, path: YamlPath, smap: SourceMap) -> dict[str, Any]:
        data: dict[str, Any] = dict(_FIXED.get(entity.cls, {}))
        allowed = ENTITIES[entity.cls][1]
        kwargs = dict(entity.kwargs)
        keypos = dict(entity.keypos)
        if entity.cls in ("ManagedOnlineDeployment", "KubernetesOnlineDeployment") and (
                "code_path" in kwargs or "scoring_script" in kwargs) and "code_configuration" not in kwargs:
            code = Entity("CodeConfiguration", (kwargs.get("code_path") or kwargs["scoring_script"]).pos)
            for sdk, yaml_key in (("code_path", "code"), ("scoring_script", "scoring_script")):
                if sdk in kwargs:
                    code.kwargs[yaml_key] = kwargs[sdk]
                    code.keypos[yaml_key] = keypos[sdk]
            kwargs["code_configuration"] = Value(code, code.pos)
            keypos["code_configuration"] = keypos.get("code_path") or keypos["scoring_script"]
        if "**" in kwargs:
            smap.unknown[path] = str(kwargs["**"].value)
        for key in allowed:
            if key not in kwargs:
                continue
            value = kwargs[key]
            if value.value is None and key not in ("traffic",):
                continue  # azure-ai-ml leaves None out of the YAML it writes
            child = path + (key,)
            smap.keys[child] = keypos.get(key, value.pos)
            data[key] = self._plain(value, child, smap)
        return data

    def _plain(self, value: Value, path: YamlPath, smap: SourceMap, located: bool = True) -> Any:
        if located:
            smap.values[path] = value.pos
        v = value.value
        self._budget -= 1
        if isinstance(v, (Entity, dict, list)) and (id(v) in self._expanding or self._budget < 0):
            v = Unknown("the value holds itself" if id(v) in self._expanding
                        else "the value is too large to follow statically")
        if isinstance(v, Unknown):
            smap.unknown[path] = str(v)[len("<unknown: "):-1]
            return v
        if not isinstance(v, (Entity, dict, list)):
            return v
        self._expanding.add(id(v))
        try:
            if isinstance(v, Entity):
                if v.loaded is not None:
                    return _strip(v.loaded.data)
                return self._entity_data(v, path, smap)
            if isinstance(v, dict):
                out = {}
                for k, item in v.items():
                    if located:
                        smap.keys[path + (k,)] = value.keypos.get(k, item.pos)
                    out[k] = self._plain(item, path + (k,), smap, located)
                return out
            return [self._plain(item, path + (i,), smap, located) for i, item in enumerate(v)]
        finally:
            self._expanding.discard(id(v))


def _strip(data: Any) -> Any:
    return data


def _mark_held(value: Value) -> None:
    """Mark every entity inside ``value`` as held (each container visited once: a value may
    hold itself, ``d["a"] = d``, or the same container many times)."""
    seen: set[int] = set()
    stack = [value.value]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Entity):
            v.held = True
        elif isinstance(v, dict):
            stack.extend(item.value for item in v.values())
        elif isinstance(v, list):
            stack.extend(item.value for item in v)


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def mentions_sdk(text: str) -> bool:
    """The cheap pre-check: whether a file can use azure-ai-ml at all."""
    return any(marker in text for marker in SDK_MARKERS)


_SYNTAX_HINT = "fix the syntax error, or exclude the file from the run"


def syntax_problem(e: SyntaxError, display: str, locate: Any = None) -> LoadProblem:
    """A located AML006 problem for a Python syntax error."""
    line, col = e.lineno or 1, (e.offset or 1)
    location = locate((line, col)) if locate else Location(display, line, col)
    return LoadProblem("AML006", location, f"invalid Python: {e.msg}", _SYNTAX_HINT, fatal=True)


class PythonSdkReader(Reader):
    """``.py`` files that build azure-ai-ml online endpoint entities (read, never run)."""

    name = "python-sdk"
    suffixes = (".py",)

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        try:
            in_memory = options.overlay.text(path) if options.overlay is not None else None
            text = read_text(path, display, options.max_file_bytes) if in_memory is None else in_memory
        except UserInputError as e:
            if explicit:
                result.problems.append(LoadProblem("AML001", e.location or Location(display), e.message,
                                                   e.hint, fatal=True))
            result.skipped = e.message
            return result
        if not mentions_sdk(text):
            result.skipped = "does not use azure-ai-ml"
            if explicit:
                result.problems.append(not_sdk_source(display, "it does not use azure-ai-ml"))
            return result
        lines = text.splitlines()
        try:
            module = ast.parse(text, filename=display)
        except (SyntaxError, ValueError) as e:
            if explicit or isinstance(e, SyntaxError) and _IMPORTS_SDK.search(text):
                if isinstance(e, SyntaxError):
                    result.problems.append(syntax_problem(e, display))
                else:
                    result.problems.append(LoadProblem("AML006", Location(display, 1, 1), f"invalid Python: {e}",
                                                       _SYNTAX_HINT, fatal=True))
            result.skipped = "does not parse as Python"
            return result
        except (RecursionError, MemoryError):  # CPython's parser gives up on very deep nesting either way
            result.problems.append(LoadProblem("AML003", Location(display, 1, 1), "the file nests too deeply to parse",
                                               "flatten the expression", fatal=True))
            return result
        extractor = Extractor(path, display, options, lines)
        try:
            extractor.run(module)
        except RecursionError:
            result.problems.append(LoadProblem("AML003", Location(display, 1, 1),
                                               "the file nests too deeply to read", "flatten the expression",
                                               fatal=True))
            return result
        result.problems.extend(extractor.problems)
        result.documents = extractor.documents(lambda: SourceMap(display, lines=lines), explicit)
        if not result.documents:
            result.skipped = "builds no azure-ai-ml online endpoint, deployment, environment or model"
            if explicit and not result.problems:
                result.problems.append(not_sdk_source(display, "it builds no online endpoint, deployment, "
                                                               "environment or model"))
        return result


def not_sdk_source(display: str, why: str) -> LoadProblem:
    """AML005 for a Python file or notebook named on the command line that has nothing to lint
    (as for a named YAML file that is not az-ml)."""
    return LoadProblem("AML005", Location(display, 1, 1), f"no azure-ai-ml online endpoint source: {why}",
                       "pass only the files that build online endpoints with azure-ai-ml (or --skip-unknown to "
                       "skip the others)", fatal=True)


_IMPORTS_SDK = LazyPattern(r"^\s*(from\s+azure\.ai\.ml\b|import\s+azure\.ai\.ml\b)", re.MULTILINE)

READER = PythonSdkReader()

__all__ = ["ENTITIES", "Entity", "Extractor", "PythonSdkReader", "READER", "Value", "mentions_sdk"]
