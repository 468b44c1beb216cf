"""Paths under ``AZUREML_MODEL_DIR`` that a scoring script spells out with literals.

A tiny abstract interpreter over the script's ``ast`` (nothing is executed). It knows the
roots ``os.getenv("AZUREML_MODEL_DIR")``, ``os.environ["AZUREML_MODEL_DIR"]``,
``os.environ.get(...)`` (also via ``from os import getenv, environ``), and the ways paths are
built from them with literal segments: ``os.path.join``, ``pathlib.Path(...)``, ``/``,
``joinpath``, f-strings and ``+ "/x"``, through wrappers such as ``str()``,
``os.path.abspath()`` and ``Path.resolve()``, and through local variables assigned once in
the same function (or at module level).

Paths that the script tests first (``os.path.exists``, ``.is_file()``...), paths built inside
a ``try`` that catches ``FileNotFoundError``/``OSError``/``Exception``, glob patterns and
paths that are written to are left out: a missing file is then not necessarily fatal.
"""

from __future__ import annotations

import ast
import os
import posixpath
from functools import lru_cache

from msgspec import Struct

ENV_NAME = "AZUREML_MODEL_DIR"
_WRAPPERS = {"str", "abspath", "realpath", "normpath", "fspath", "expanduser", "Path", "PurePath", "PosixPath",
             "PurePosixPath"}
_PATH_METHODS = {"resolve", "absolute", "expanduser"}
_EXISTENCE = {"exists", "isfile", "isdir", "lexists", "is_file", "is_dir"}
_WRITERS = {"makedirs", "mkdir", "remove", "unlink", "rmtree", "touch", "write_text", "write_bytes"}
_TOLERANT = {"FileNotFoundError", "OSError", "IOError", "Exception", "BaseException", "EnvironmentError"}
_GLOB = set("*?[")


class ModelPath(Struct, frozen=True):
    """``$AZUREML_MODEL_DIR/<parts>``."""

    parts: tuple[str, ...]

    def text(self) -> str:
        return "/".join(("$" + ENV_NAME,) + self.parts)


class PathUse(Struct, frozen=True):
    """A model path the script builds, and where."""

    path: ModelPath
    node: ast.AST
    function: str  # enclosing function name ("" at module level)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_env_key(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == ENV_NAME


def _split(text: str) -> tuple[str, ...] | None:
    """Literal path segments; None when the text is not a plain relative path."""
    if not text or "\\" in text or text.startswith("/") or _GLOB & set(text):
        return None
    return tuple(p for p in text.split("/") if p not in ("", "."))


def _extend(base: ModelPath, more: tuple[str, ...]) -> ModelPath | None:
    parts = list(base.parts)
    for p in more:
        if p == "..":
            if not parts:
                return None  # leaves the model folder: not ours to judge
            parts.pop()
        else:
            parts.append(p)
    return ModelPath(tuple(parts))


class _Evaluator:
    """Values of expressions: ModelPath, str (a literal) or None (unknown)."""

    def __init__(self, scopes: list[dict[str, object]]):
        self.scopes = scopes

    def lookup(self, name: str) -> object:
        for scope in self.scopes:
            if name in scope:
                return scope[name]
        return None

    def eval(self, node: ast.AST | None) -> object:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Subscript):  # os.environ["AZUREML_MODEL_DIR"]
            if _name(node.value) == "environ" and _is_env_key(node.slice):
                return ModelPath(())
            return None
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            if isinstance(left, ModelPath) and isinstance(right, str):
                if isinstance(node.op, ast.Div):
                    more = _split(right)
                elif isinstance(node.op, ast.Add) and right.startswith("/"):
                    more = _split(right[1:])
                else:
                    return None
                return _extend(left, more) if more is not None else None
            return None
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        return None

    def _fstring(self, node: ast.JoinedStr) -> object:
        values = node.values
        if not values or not isinstance(values[0], ast.FormattedValue):
            return None
        first = values[0]
        if first.conversion not in (-1, 115) or first.format_spec is not None:
            return None
        base = self.eval(first.value)
        if not isinstance(base, ModelPath):
            return None
        rest = ""
        for v in values[1:]:
            if not (isinstance(v, ast.Constant) and isinstance(v.value, str)):
                return None
            rest += v.value
        if not rest:
            return base
        if not rest.startswith("/"):
            return None
        more = _split(rest[1:])
        return _extend(base, more) if more is not None else None

    def _call(self, node: ast.Call) -> object:
        fn = _name(node.func)
        args = node.args
        if node.keywords and fn not in ("getenv", "get"):
            return None
        if fn in ("getenv", "get") and args and _is_env_key(args[0]):
            if fn == "get" and not (isinstance(node.func, ast.Attribute) and _name(node.func.value) == "environ"):
                return None
            return ModelPath(())
        if fn == "join" and args:
            base = self.eval(args[0])
            if not isinstance(base, ModelPath):
                return None
            for arg in args[1:]:
                value = self.eval(arg)
                more = _split(value) if isinstance(value, str) else None
                if more is None:
                    return None
                base = _extend(base, more)
                if base is None:
                    return None
            return base
        if fn in _WRAPPERS and args:
            base = self.eval(args[0])
            if not isinstance(base, ModelPath):
                return None
            for arg in args[1:]:  # Path(root, "model", "x.pkl")
                value = self.eval(arg)
                more = _split(value) if isinstance(value, str) else None
                if more is None or fn not in ("Path", "PurePath", "PosixPath", "PurePosixPath"):
                    return None
                base = _extend(base, more)
                if base is None:
                    return None
            return base
        if isinstance(node.func, ast.Attribute):
            owner = self.eval(node.func.value)
            if isinstance(owner, ModelPath):
                if fn in _PATH_METHODS and not args:
                    return owner
                if fn == "joinpath":
                    base: ModelPath | None = owner
                    for arg in args:
                        value = self.eval(arg)
                        more = _split(value) if isinstance(value, str) else None
                        if more is None or base is None:
                            return None
                        base = _extend(base, more)
                    return base
        return None


def _assigned_once(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Names bound exactly once in this scope, by a plain ``name = value`` (nested scopes excluded)."""
    counts: dict[str, int] = {}
    values: dict[str, ast.expr] = {}

    def bump(name: str, by: int = 1) -> None:
        counts[name] = counts.get(name, 0) + by

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bump(node.name)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                bump(name, 2)  # shared with another scope: never "assigned once" here
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bump(node.id)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values[node.target.id] = node.value
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in body:
        visit(stmt)
    return {k: v for k, v in values.items() if counts.get(k) == 1}


def _scope_values(body: list[ast.stmt], outer: list[dict[str, object]]) -> dict[str, object]:
    """Evaluate once-assigned names in source order (later ones may use earlier ones)."""
    assigned = _assigned_once(body)
    scope: dict[str, object] = {}
    evaluator = _Evaluator([scope, *outer])
    ordered = sorted(assigned.items(), key=lambda kv: (kv[1].lineno, kv[1].col_offset))
    for name, value in ordered:
        result = evaluator.eval(value)
        if result is not None:
            scope[name] = result
    return scope


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def _tolerant_try(node: ast.Try) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(_name(t) in _TOLERANT for t in types):
            return True
    return False


@lru_cache(maxsize=64)
def model_paths(tree: ast.Module) -> list[PathUse]:
    """Every maximal model path the script builds, minus the tolerated ones (see module doc)."""
    parents = _parents(tree)
    module_scope = _scope_values(tree.body, [])
    uses: list[PathUse] = []
    checked: set[tuple[str, ...]] = set()  # paths tested for existence somewhere

    def visit_scope(body_owner: ast.AST, scopes: list[dict[str, object]], function: str) -> None:
        evaluator = _Evaluator(scopes)
        for node in _scope_nodes(body_owner):
            if not isinstance(node, (ast.Call, ast.BinOp, ast.JoinedStr, ast.Subscript)):
                continue
            value = evaluator.eval(node)
            if isinstance(node, ast.Call) and _name(node.func) in _EXISTENCE:
                target = evaluator.eval(node.args[0]) if node.args else evaluator.eval(
                    node.func.value if isinstance(node.func, ast.Attribute) else None)
                if isinstance(target, ModelPath):
                    checked.add(target.parts)
            if not isinstance(value, ModelPath) or not value.parts:
                continue
            parent = parents.get(node)
            if parent is not None and isinstance(evaluator.eval(parent), ModelPath):
                continue  # part of a larger path expression
            if parent is not None and isinstance(parent, ast.keyword):
                parent = parents.get(parent)
            if isinstance(parent, ast.Call) and _name(parent.func) in _WRITERS:
                continue
            if isinstance(parent, ast.Call) and _name(parent.func) == "open" and _writes(parent):
                continue
            if _inside_tolerant_try(node, parents):
                continue
            uses.append(PathUse(value, node, function))

    def _writes(call: ast.Call) -> bool:
        mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
        return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(set(mode.value) & set("wax+"))

    visit_scope(tree, [module_scope], "")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local = _scope_values(node.body, [module_scope])
            visit_scope(node, [local, module_scope], node.name)
    kept = [u for u in uses if not any(u.path.parts[: len(c)] == c for c in checked)]
    return sorted(kept, key=lambda u: (getattr(u.node, "lineno", 0), getattr(u.node, "col_offset", 0)))


def _scope_nodes(owner: ast.AST):
    stack = list(ast.iter_child_nodes(owner))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.extend(node.decorator_list)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _inside_tolerant_try(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body and _tolerant_try(parent):
            return True
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)) and child is parent.test:
            return True
        child, parent = parent, parents.get(parent)
    return False


def _checkpoint_prefix(path: str) -> bool:
    """Whether ``path`` names a TensorFlow checkpoint: no file has that name, but
    ``<path>.index`` and ``<path>.data-*`` do, and ``Saver.restore`` / ``Checkpoint.read``
    take the prefix."""
    return os.path.isfile(path + ".index")


class ModelLayout(Struct, frozen=True):
    """What ``AZUREML_MODEL_DIR`` holds for a local model path."""

    raw: str
    root: str  # the folder or file name under $AZUREML_MODEL_DIR
    local: str  # absolute local path of that folder or file
    is_dir: bool

    def exists(self, parts: tuple[str, ...]) -> bool:
        if not parts:
            return True
        if parts[0] != self.root:
            return False
        if not self.is_dir:
            return len(parts) == 1
        path = os.path.join(self.local, *parts[1:])
        return os.path.exists(path) or _checkpoint_prefix(path)

    def missing_prefix(self, parts: tuple[str, ...]) -> tuple[str, ...] | None:
        """The shortest prefix of ``parts`` that does not exist, or None when all exist."""
        for k in range(1, len(parts) + 1):
            if not self.exists(parts[:k]):
                return parts[:k]
        return None

    def sample(self, limit: int = 3) -> list[str]:
        """A few paths (relative to $AZUREML_MODEL_DIR) that do exist, for messages."""
        if not self.is_dir:
            return [self.root]
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.local):
            dirnames.sort()
            for f in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, f), self.local).replace(os.sep, "/")
                out.append(posixpath.join(self.root, rel))
                if len(out) >= limit:
                    return out
        return out

    def find(self, filename: str, limit: int = 5000) -> str | None:
        """Where a file called ``filename`` is (relative to $AZUREML_MODEL_DIR), if anywhere."""
        if not self.is_dir:
            return self.root if self.root == filename else None
        seen = 0
        for dirpath, dirnames, filenames in os.walk(self.local):
            dirnames.sort()
            if filename in filenames or filename in dirnames:
                rel = os.path.relpath(os.path.join(dirpath, filename), self.local).replace(os.sep, "/")
                return posixpath.join(self.root, rel)
            seen += len(filenames) + len(dirnames)
            if seen > limit:
                return None
        return None


__all__ = ["ENV_NAME", "ModelLayout", "ModelPath", "PathUse", "model_paths"]
