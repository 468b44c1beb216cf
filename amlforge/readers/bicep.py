"""The Bicep reader: ``.bicep`` files into az-ml-shaped documents, located at the ``.bicep``.

The file is parsed with positions (``bicep_parse.py``) and evaluated the way ``arm.py``
evaluates ARM: ``param`` values come from ``--parameters FILE`` (a ``.bicepparam`` or an ARM
parameters JSON), else the sibling ``<stem>.bicepparam``, else the parameter's default; ``var``,
string interpolation, ``parent:`` chains, ``existing`` parents, nested ``resource`` children,
``if (...)`` conditions, ``[for ...]`` loops and ``module``s in local files are followed.
``reference``-like values (``resourceGroup().location``, ``listKeys()``, a module's outputs,
the properties of a deployed resource, lambdas) are unknown: recorded in ``SourceMap.unknown``,
never guessed. The Machine Learning resources become documents through the same ARM -> az-ml
mapping as ``arm.py``.

A local module that another ``.bicep`` file of the same folder (or the folder above) calls is
read through its caller (with the caller's parameter values), not on its own, when a folder is walked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers import bicep_parse as bp
from amlforge.readers.arm import _KINDS, NESTED, _lower, _read_parameters, _Source, documents_of
from amlforge.readers.arm_expr import _FUNCTIONS, ResourceId, _text
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult, Unknown
from amlforge.readers.jsonpos import JsonPositions
from amlforge.specs.files import MAX_USER_FILE_BYTES, read_user_bytes
from amlforge.specs.source import read_text

#: Deepest chain of local modules followed.
MAX_MODULE_DEPTH = 5
#: Most iterations of one loop, and most resources a file may expand to.
MAX_LOOP = 800
MAX_RESOURCES = 5_000
MAX_EVAL_DEPTH = 60

_MODULE_REF = LazyPattern(r"^\s*module\s+\w+\s+'([^']+)'", re.M)


class _Resource:
    """A declared resource symbol."""

    def __init__(self, decl: bp.Decl, rtype: str, parent: _Resource | None, file: _File) -> None:
        self.decl = decl
        self.type = rtype
        self.parent = parent  # the enclosing resource of a nested declaration
        self.file = file
        self._name: Any = None

    def name(self, scope: _Scope) -> Any:
        if self._name is None:
            self._name = Unknown("resource name is being resolved")  # a cycle resolves to unknown
            self._name = self.file.full_name(self, scope)
        return self._name


class _Scope:
    def __init__(self, file: _File, params: dict[str, Any], locals_: dict[str, Any] | None = None) -> None:
        self.file = file
        self.params = params
        self.locals = locals_ or {}

    def with_locals(self, more: dict[str, Any]) -> _Scope:
        return _Scope(self.file, self.params, {**self.locals, **more})


class _File:
    """One Bicep file being evaluated (the main file or a module)."""

    def __init__(self, path: Path, display: str, text: str, reader: _Run) -> None:
        self.path = path
        self.display = display
        self.text = text
        self.run = reader
        self.index = bp.LineIndex(text)
        self.pos = JsonPositions()
        self.decls = bp.parse_bicep(text)
        self.vars = {d.name: d for d in self.decls if d.kind == "var"}
        self.symbols: dict[str, _Resource] = {}
        self._var_cache: dict[str, Any] = {}
        self._resolving: list[str] = []
        self.count = 0
        self.secure_defaults = [(*self.index(d.value.offset), d.name) for d in self.decls
                                if d.kind == "param" and d.value is not None
                                and any(c.name == "secure" for c in d.decorators)
                                and not (isinstance(d.value, bp.Lit) and d.value.value in ("", None))]

    # locations
    def loc(self, offset: int) -> Location:
        line, col = self.index(offset)
        return Location(self.display, line, col)

    def problem(self, code: str, at: tuple[Any, ...], message: str, hint: str) -> None:
        pos = self.pos.values.get(at) or (1, 1)
        self.run.problems.append(LoadProblem(code, Location(self.display, pos[0], pos[1]), message, hint))

    def record(self, node: Any, path: tuple[Any, ...]) -> None:
        """Positions of a literal body below ``path`` (objects and arrays spelled out here)."""
        self.pos.values[path] = self.index(node.offset)
        if isinstance(node, bp.Obj):
            for key, (key_offset, value) in node.items.items():
                self.pos.keys[path + (key,)] = self.index(key_offset)
                self.record(value, path + (key,))
        elif isinstance(node, bp.Arr):
            for i, item in enumerate(node.items):
                self.record(item, path + (i,))

    # declarations
    def declare(self, decls: list[bp.Decl], parent: _Resource | None) -> None:
        for decl in decls:
            if decl.kind != "resource":
                continue
            rtype = decl.type_text.split("@", 1)[0]
            if parent is not None and "/" not in rtype.split("/", 1)[-1] and "." not in rtype.split("/")[0]:
                rtype = f"{parent.type}/{rtype}"
            res = _Resource(decl, rtype, parent, self)
            self.symbols.setdefault(decl.name, res)
            body = decl.value.body if isinstance(decl.value, bp.IfBody) else decl.value
            if isinstance(body, bp.For):
                body = body.body.body if isinstance(body.body, bp.IfBody) else body.body
            if isinstance(body, bp.Obj) and body.resources:
                self.declare(body.resources, res)

    def full_name(self, res: _Resource, scope: _Scope) -> Any:
        body = _body_of(res.decl.value)
        if not isinstance(body, bp.Obj) or "name" not in body.items:
            return Unknown("resource without a name")
        name = self.eval(body.items["name"][1], scope)
        if isinstance(name, Unknown) or not isinstance(name, str):
            return name if isinstance(name, Unknown) else Unknown("name is not a string")
        parent = res.parent
        if parent is None and "parent" in body.items:
            ref = body.items["parent"][1]
            parent = self.symbols.get(ref.name) if isinstance(ref, bp.Ref) else None
            if parent is None:
                return Unknown("parent is not a resource of this file")
        if parent is not None:
            parent_name = parent.name(scope)
            if isinstance(parent_name, Unknown) and parent.type.lower().endswith("/workspaces"):
                parent_name = "<workspace>"  # often left to deploy time: the names below it suffice
            if isinstance(parent_name, Unknown):
                return parent_name
            return f"{parent_name}/{name}"
        return name

    # evaluation
    def eval(self, node: Any, scope: _Scope, depth: int = 0) -> Any:
        if depth > MAX_EVAL_DEPTH:
            return Unknown("expression nests too deeply")
        d = depth + 1
        if isinstance(node, bp.Lit):
            return node.value
        if isinstance(node, bp.Interp):
            parts = [p if isinstance(p, str) else self.eval(p, scope, d) for p in node.parts]
            bad = next((p for p in parts if isinstance(p, Unknown)), None)
            if bad is not None:
                return bad
            if any(isinstance(p, (dict, list)) and _unknown_in(p) for p in parts):
                return Unknown("interpolation of a value that is not known")
            return "".join(_text(p) for p in parts)
        if isinstance(node, bp.Obj):
            out = {k: self.eval(v, scope, d) for k, (_, v) in node.items.items() if k != "..."}
            if "..." in node.items:
                return Unknown("an object spread")
            return out
        if isinstance(node, bp.Arr):
            return [self.eval(v, scope, d) for v in node.items]
        if isinstance(node, bp.Ref):
            return self.ref(node.name, scope, node, d)
        if isinstance(node, bp.Member):
            if isinstance(node.target, bp.Ref) and node.target.name in self.symbols \
                    and node.target.name not in scope.locals:
                res = self.symbols[node.target.name]
                if node.name == "id":
                    name = res.name(scope)
                    if isinstance(name, Unknown) and res.type.lower().endswith("/workspaces"):
                        name = "<workspace>"  # the ids below it name their assets all the same
                    if isinstance(name, Unknown):
                        return name
                    return ResourceId(res.type, tuple(name.split("/")))
                if node.name == "name":
                    name = res.name(scope)
                    return name.rsplit("/", 1)[-1] if isinstance(name, str) and not isinstance(name, Unknown) else name
                if node.name == "type":
                    return res.type
                return Unknown(f"{node.target.name}.{node.name} is known after deployment")
            target = self.eval(node.target, scope, d)
            if isinstance(target, Unknown):
                return target
            if isinstance(target, dict):
                for k, v in target.items():
                    if k.lower() == node.name.lower():
                        return v
            return Unknown(f"no property '{node.name}'")
        if isinstance(node, bp.Index):
            target = self.eval(node.target, scope, d)
            index = self.eval(node.index, scope, d)
            if isinstance(target, Unknown) or isinstance(index, Unknown):
                return target if isinstance(target, Unknown) else index
            try:
                return target[index]
            except (KeyError, IndexError, TypeError):
                return Unknown("index out of range")
        if isinstance(node, bp.Unary):
            value = self.eval(node.operand, scope, d)
            if isinstance(value, Unknown):
                return value
            if node.op == "!":
                return not value if isinstance(value, bool) else Unknown("! of a non-boolean")
            return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else Unknown("-")
        if isinstance(node, bp.Binary):
            return self.binary(node, scope, d)
        if isinstance(node, bp.Ternary):
            cond = self.eval(node.cond, scope, d)
            if not isinstance(cond, bool):
                return cond if isinstance(cond, Unknown) else Unknown("condition is not a boolean")
            return self.eval(node.then if cond else node.other, scope, d)
        if isinstance(node, bp.Call):
            return self.call(node, scope, d)
        if isinstance(node, bp.Opaque):
            return Unknown(f"{node.what} is not evaluated")
        if isinstance(node, (bp.For, bp.IfBody)):
            return Unknown("a loop or condition in a value is not evaluated")
        return Unknown("an expression amlforge does not evaluate")

    def ref(self, name: str, scope: _Scope, node: Any, depth: int) -> Any:
        if name in scope.locals:
            return scope.locals[name]
        if name in scope.params:
            return scope.params[name]
        if name in self.vars:
            if name in self._var_cache:
                return self._var_cache[name]
            if name in self._resolving:
                chain = " -> ".join([*self._resolving[self._resolving.index(name):], name])
                message = f"variables refer to each other in a circle: {chain}"
                if not any(p.message == message for p in self.run.problems):
                    self.run.problems.append(LoadProblem(
                        "AML003", self.loc(self.vars[name].offset), message,
                        "break the circle: one variable must not need itself"))
                return Unknown(f"circular variable '{name}'")
            self._resolving.append(name)
            try:
                value = self.eval(self.vars[name].value, scope.with_locals({}) if scope.locals else scope, depth)
            finally:
                self._resolving.pop()
            self._var_cache[name] = value
            return value
        if name in self.symbols:
            return Unknown(f"the resource {name} as a whole is known after deployment")
        return Unknown(f"'{name}' is not a parameter or variable of this file")

    def binary(self, node: bp.Binary, scope: _Scope, d: int) -> Any:
        left = self.eval(node.left, scope, d)
        if node.op == "??":
            return left if left is not None and not isinstance(left, Unknown) else (
                left if isinstance(left, Unknown) else self.eval(node.right, scope, d))
        if node.op == "&&" and left is False:
            return False
        if node.op == "||" and left is True:
            return True
        right = self.eval(node.right, scope, d)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return left if isinstance(left, Unknown) else right
        try:
            if node.op == "==":
                return left == right
            if node.op == "!=":
                return left != right
            if node.op == "=~":
                return str(left).lower() == str(right).lower()
            if node.op == "!~":
                return str(left).lower() != str(right).lower()
            if node.op in ("&&", "||"):
                return bool(right)
            if node.op == "<":
                return left < right
            if node.op == ">":
                return left > right
            if node.op == "<=":
                return left <= right
            if node.op == ">=":
                return left >= right
            if isinstance(left, bool) or isinstance(right, bool):
                return Unknown(f"{node.op} of booleans")
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            if node.op == "*":
                return left * right
            if node.op == "/":
                return left // right
            if node.op == "%":
                return left % right
        except (TypeError, ZeroDivisionError):
            return Unknown(f"{node.op} of values amlforge cannot combine")
        return Unknown(node.op)

    def call(self, node: bp.Call, scope: _Scope, d: int) -> Any:
        name = node.name
        args = [self.eval(a, scope, d) for a in node.args]
        if name == "coalesce":
            for a in args:
                if isinstance(a, Unknown):
                    return a
                if a is not None:
                    return a
            return None
        if name == "if":
            return Unknown("if() is not a Bicep function")
        if any(_unknown_in(a) for a in args):
            return next((a for a in args if isinstance(a, Unknown)), Unknown(f"{name}() of a value that is not known"))
        if name == "range" and len(args) == 2 and all(isinstance(a, int) for a in args):
            if args[1] > MAX_LOOP:
                return Unknown(f"range() of more than {MAX_LOOP} items")
            return list(range(args[0], args[0] + args[1]))
        extra = {"contains": lambda c, x: x in c, "replace": lambda s, a, b: s.replace(a, b),
                 "trim": lambda s: s.strip(), "split": lambda s, sep: s.split(sep),
                 "join": lambda items, sep: sep.join(items), "first": lambda c: c[0], "last": lambda c: c[-1],
                 "substring": lambda s, i, n=None: s[i:] if n is None else s[i:i + n],
                 "startswith": lambda s, p: s.startswith(p), "endswith": lambda s, p: s.endswith(p)}
        function = extra.get(name) or _FUNCTIONS.get(name)
        if function is None or name.startswith("."):
            return Unknown(f"{name.lstrip('.')}() is evaluated by Azure at deployment time")
        try:
            return function(*args)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return Unknown(f"{name}() with arguments amlforge cannot evaluate")

    # resources
    def walk(self, scope: _Scope) -> None:
        self.declare(self.decls, None)
        index = 0
        for decl in self.decls:
            if decl.kind == "resource":
                index = self.resource(decl, self.symbols[decl.name], scope, index)
            elif decl.kind == "module":
                self.run.module(self, decl, scope)

    def resource(self, decl: bp.Decl, res: _Resource, scope: _Scope, index: int) -> int:
        value = decl.value
        iterations: list[_Scope] = [scope]
        if isinstance(value, bp.For):
            source = self.eval(value.source, scope)
            if isinstance(source, list):
                if len(source) > MAX_LOOP:
                    self.run.problems.append(LoadProblem(
                        "AML003", self.loc(value.offset), f"the loop has {len(source)} items, over {MAX_LOOP}",
                        f"Bicep deploys at most {MAX_LOOP} copies"))
                    source = source[:MAX_LOOP]
                iterations = [scope.with_locals({value.var: item, **({value.index_var: i} if value.index_var else {})})
                              for i, item in enumerate(source)]
            else:
                unknown = Unknown("the loop's items are not known")
                iterations = [scope.with_locals({value.var: unknown, **({value.index_var: unknown}
                                                                        if value.index_var else {})})]
            value = value.body
        for it in iterations:
            body = value
            if isinstance(body, bp.IfBody):
                cond = self.eval(body.cond, it)
                if cond is False:
                    continue
                body = body.body
            if not isinstance(body, bp.Obj):
                continue
            self.count += 1
            if self.count > MAX_RESOURCES:
                if self.count == MAX_RESOURCES + 1:
                    self.run.problems.append(LoadProblem("AML003", self.loc(decl.offset),
                                                         f"the file expands to more than {MAX_RESOURCES:,} resources",
                                                         "split it into modules"))
                return index
            kind = _KINDS.get(res.type.lower())
            if kind is not None and not decl.existing:
                res._name = None  # per iteration
                full = res.name(it)
                names = tuple(full.split("/"))[1:] if isinstance(full, str) and not isinstance(full, Unknown) else ()
                at = (index,)
                self.record(body, at)
                self.pos.values[at + ("name",)] = self.index(body.items["name"][1].offset) if "name" in body.items \
                    else self.index(decl.offset)
                evaluated = {k: self.eval(v, it) for k, (_, v) in body.items.items()
                             if k in ("location", "sku", "identity", "tags", "properties", "kind")}
                src = _Source(kind, names, evaluated, {}, at, None, self)
                location = body.items.get("location")
                if location is not None and isinstance(location[1], bp.Lit) and isinstance(location[1].value, str):
                    src.literal_location = (*self.index(location[1].offset), location[1].value)
                if isinstance(decl.value, bp.For) and not isinstance(self.eval(decl.value.source, scope), list):
                    evaluated["__unknown_copy__"] = True
                self.run.found.append(src)
                index += 1
            for child in body.resources:
                index = self.resource(child, self.symbols.get(child.name) or _Resource(child, child.type_text, res, self),
                                      it, index)
            if res.type.lower() == NESTED:
                pass  # Microsoft.Resources/deployments in Bicep are modules; an inline template is not read
        return index


def _body_of(value: Any) -> Any:
    if isinstance(value, bp.For):
        value = value.body
    if isinstance(value, bp.IfBody):
        value = value.body
    return value


def _unknown_in(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_unknown_in(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown_in(v) for v in value)
    return False


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover
        return str(path)


class _Run:
    """One ``read``: the main file, its modules, what they declare and the problems met."""

    def __init__(self, options: LoadOptions) -> None:
        self.options = options
        self.problems: list[LoadProblem] = []
        self.found: list[_Source] = []
        self.stack: list[Path] = []

    def text(self, path: Path, display: str) -> str:
        in_memory = self.options.overlay.text(path) if self.options.overlay is not None else None
        text = in_memory if in_memory is not None else read_text(path, display, self.options.max_file_bytes)
        # a lone CR ends a line, as in editors (and YAML): lines and columns stay those shown there
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def parse(self, path: Path, display: str) -> _File | None:
        try:
            return _File(path, display, self.text(path, display), self)
        except UserInputError as e:
            code = "AML004" if "larger than" in e.message else "AML001"
            self.problems.append(LoadProblem(code, e.location or Location(display), e.message, e.hint, fatal=True))
        except bp.BicepSyntaxError as e:
            line, col = bp.LineIndex(self.text(path, display))(e.offset)
            code = "AML003" if "nests" in str(e) or "too large" in str(e) else "AML002"
            self.problems.append(LoadProblem(code, Location(display, line, col), f"invalid Bicep: {e}", e.hint,
                                             fatal=True))
        return None

    def evaluate(self, file: _File, given: dict[str, Any]) -> None:
        params: dict[str, Any] = {}
        scope = _Scope(file, params)
        for decl in file.decls:
            if decl.kind != "param":
                continue
            if decl.name in given:
                params[decl.name] = given[decl.name]
            elif decl.value is not None:
                params[decl.name] = file.eval(decl.value, scope)
            else:
                params[decl.name] = Unknown(f"parameter '{decl.name}' has no value (no parameters file entry, "
                                            "no default)")
        self.stack.append(file.path)
        try:
            file.walk(scope)
        finally:
            self.stack.pop()

    def module(self, caller: _File, decl: bp.Decl, scope: _Scope) -> None:
        target = decl.type_text
        if ":" in target.split("/")[0] or not target.lower().endswith(".bicep"):
            return  # a registry or template-spec module (br:, ts:) or an ARM JSON module: not read
        path = Path(os.path.normpath(caller.path.parent / target))
        if len(self.stack) >= MAX_MODULE_DEPTH or path in self.stack:
            what = "calls itself" if path in self.stack else f"nests deeper than {MAX_MODULE_DEPTH} modules"
            self.problems.append(LoadProblem("AML003", caller.loc(decl.offset), f"module '{target}' {what}",
                                             "modules must form a tree"))
            return
        body = _body_of(decl.value)
        given: dict[str, Any] = {}
        if isinstance(body, bp.Obj) and "params" in body.items:
            values = caller.eval(body.items["params"][1], scope)
            if isinstance(values, dict):
                given = values
        if isinstance(decl.value, bp.IfBody) and caller.eval(decl.value.cond, scope) is False:
            return
        if not path.is_file() and (self.options.overlay is None or self.options.overlay.text(path) is None):
            self.problems.append(LoadProblem("AML106", caller.loc(decl.offset), f"module file '{target}' does not exist",
                                             "check the path (relative to this .bicep file)"))
            return
        module = self.parse(path, _display(path))
        if module is not None:
            self.evaluate(module, given)


def _bicepparam_values(path: Path, run: _Run) -> dict[str, Any] | None:
    display = _display(path)
    file = run.parse(path, display)
    if file is None:
        return None
    scope = _Scope(file, {})
    values = {}
    for decl in file.decls:
        if decl.kind == "param" and decl.value is not None:
            values[decl.name] = file.eval(decl.value, scope)
    return values


def _sibling_params(path: Path) -> Path | None:
    candidate = path.with_suffix(".bicepparam")
    return candidate if candidate.is_file() else None


def _called_by_a_sibling(path: Path) -> bool:
    """Whether a ``.bicep`` file of the same folder, or of the folder above, calls ``path`` as a module."""
    siblings: list[Path] = []
    for folder in (path.parent, path.parent.parent):
        try:
            siblings.extend(p for p in folder.iterdir() if p.suffix.lower() == ".bicep" and p != path)
        except OSError:
            continue
    for sibling in siblings:
        try:  # the bounded reader: a FIFO or device named *.bicep beside it is refused, not waited on
            text = read_user_bytes(sibling, max_bytes=MAX_USER_FILE_BYTES).decode("utf-8", "replace")
        except UserInputError:
            continue
        for target in _MODULE_REF.findall(text):
            if os.path.normpath(sibling.parent / target) == os.path.normpath(path):
                return True
    return False


class BicepReader(Reader):
    """Bicep files (``.bicep``), with ``.bicepparam`` values."""

    name = "bicep"
    suffixes = (".bicep",)

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        if not explicit and options.overlay is None and _called_by_a_sibling(path):
            result.skipped = "a module of another Bicep file here: read through its caller"
            return result
        run = _Run(options)
        given: dict[str, Any] = {}
        params_path = Path(options.parameters) if getattr(options, "parameters", None) else _sibling_params(path)
        if params_path is not None:
            if params_path.suffix.lower() == ".json":
                values = _read_parameters(params_path, _display(params_path), options, run.problems)
                given = {k: v for k, v in (values or {}).items()}
                # ARM parameter files are case-insensitive; Bicep names are not: match by lower case
                file_params = None
            else:
                values = _bicepparam_values(params_path, run)
                given = values or {}
                file_params = True
            if values is None:
                result.problems.extend(run.problems)
                return result
        else:
            file_params = True
        main = run.parse(path, display)
        if main is None:
            result.problems.extend(run.problems)
            return result
        if file_params is None:
            lowered = _lower(given)
            given = {d.name: lowered[d.name.lower()] for d in main.decls if d.kind == "param" and d.name.lower() in lowered}
        run.evaluate(main, given)
        result.documents.extend(documents_of(run.found, "bicep", explicit))
        result.problems.extend(run.problems)
        if not result.documents and not result.problems:
            result.skipped = "a Bicep file without Machine Learning online endpoint resources"
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(display, 1, 1), "no Machine Learning online endpoint, deployment, model, "
                    "environment or code resource in this Bicep file", "pass the Bicep files that declare them",
                    fatal=True))
        return result


READER = BicepReader()

__all__ = ["BicepReader", "READER"]
