"""The Terraform reader: ``azapi_resource`` blocks of ``*.tf`` files into az-ml-shaped documents.

The azurerm provider has no online endpoint resource; teams use ``azapi``. A ``.tf`` file is
parsed with python-hcl2 (the ``terraform`` extra) into its syntax tree, which carries line and
column; objects and lists are walked here, so every value keeps its position. ``var.NAME``
takes its value from ``--parameters FILE`` (a ``.tfvars``), else ``terraform.tfvars`` beside the
file, else the variable's ``default``; ``local.NAME`` is evaluated the same way;
``azapi_resource.SYMBOL.id`` is the id of a resource of the file. Everything else (functions,
conditionals, data sources, other providers' attributes) is unknown: recorded in
``SourceMap.unknown``, never guessed. ``azapi_update_resource`` blocks (the traffic update
``amlforge generate --only terraform`` writes) are merged into the endpoint they update.
The ARM -> az-ml mapping is the one of ``arm.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers.arm import _KINDS, _Source, documents_of
from amlforge.readers.arm_expr import ResourceId
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult, Unknown
from amlforge.readers.jsonpos import JsonPositions
from amlforge.specs.source import read_text

MAX_DEPTH = 64
#: An interpolated workspace id followed by a path below the workspace.
_WORKSPACE_CHILD = LazyPattern(r"\$\{([^}]*)\}(?=/(?:models|environments|codes|computes|onlineEndpoints)/)")
#: What an unknown workspace id reads as: the names below it are what the rules need.
WORKSPACE_ID = "/subscriptions/<current>/resourceGroups/<current>/providers/Microsoft.MachineLearningServices/workspaces/<workspace>"
_REF = LazyPattern(r"(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)\Z|azapi_resource\.([A-Za-z_][A-Za-z0-9_-]*)\.(id|name)\Z")
_SNIFF = LazyPattern(r"azapi_(update_)?resource")
#: Brackets nested deeper than this fail before parsing: python-hcl2's parser (lark) takes seconds
#: on tens of thousands of nested brackets before the value-depth check (MAX_DEPTH) can run.
#: Blocks and calls nest too, so the bound is well above MAX_DEPTH; no real file comes near it.
_MAX_BRACKETS = 4 * MAX_DEPTH
_TOKENS = LazyPattern(
    r'"(?:[^"\\\n]|\\.)*"'  # a string, with the interpolations in it
    r"|#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z)"  # comments (an unclosed one runs to the end: linear)
    r"|<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n.*?(?:^[ \t]*\1[ \t]*$|\Z)"  # a heredoc (likewise)
    r"|[{\[(]|[}\])]",
    re.S | re.M)


def _too_deep(text: str, display: str) -> LoadProblem | None:
    """AML003 at the first bracket nested deeper than :data:`_MAX_BRACKETS`, counted outside
    strings, comments and heredocs; None when there is none."""
    depth = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if len(token) != 1:
            continue
        if token in "{[(":
            depth += 1
            if depth > _MAX_BRACKETS:
                at = m.start()
                line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
                return LoadProblem("AML003", Location(display, line, column),
                                   f"the file nests brackets deeper than {_MAX_BRACKETS} levels",
                                   "flatten the structure", fatal=True)
        else:
            depth = max(depth - 1, 0)
    return None
INSTALL_HINT = "install the Terraform reader: pip install 'amlforge[terraform]' (python-hcl2)"


class _Node:
    """A value of the tree: a literal, an object/list of nodes, or an expression's source text."""

    __slots__ = ("kind", "value", "line", "col")

    def __init__(self, kind: str, value: Any, line: int, col: int) -> None:
        self.kind, self.value, self.line, self.col = kind, value, line, col


def _children(tree: Any) -> list[Any]:
    return [c for c in tree.children if hasattr(c, "data")]


class _File:
    def __init__(self, path: Path, display: str, text: str, problems: list[LoadProblem]) -> None:
        self.path = path
        self.display = display
        self.text = text
        self.problems = problems
        self.pos = JsonPositions()
        self.secure_defaults: list[tuple[int, int, str]] = []

    def problem(self, code: str, at: tuple[Any, ...], message: str, hint: str) -> None:
        line, col = self.pos.values.get(at, (1, 1))
        self.problems.append(LoadProblem(code, Location(self.display, line, col), message, hint))

    # tree -> nodes
    def node(self, tree: Any, depth: int = 0) -> _Node:
        if depth > MAX_DEPTH:
            raise UserInputError(f"the file nests deeper than {MAX_DEPTH} levels", Location(self.display, 1, 1),
                                 "flatten the structure")
        while tree.data == "expr_term" and len(_children(tree)) == 1 and len(tree.children) == 1:
            tree = tree.children[0]
            if not hasattr(tree, "data"):
                break
        line, col = getattr(tree.meta, "line", 1), getattr(tree.meta, "column", 1)
        if getattr(tree, "data", None) == "object":
            items: dict[str, tuple[int, int, _Node]] = {}
            for elem in _children(tree):
                if elem.data != "object_elem":
                    continue
                key_tree, value_tree = _children(elem)[0], _children(elem)[-1]
                key = self.key(key_tree)
                items[key] = (key_tree.meta.line, key_tree.meta.column, self.node(value_tree, depth + 1))
            return _Node("object", items, line, col)
        if getattr(tree, "data", None) == "tuple":
            return _Node("list", [self.node(c, depth + 1) for c in _children(tree) if c.data != "new_line_or_comment"],
                         line, col)
        start, end = tree.meta.start_pos, tree.meta.end_pos
        return _Node("expr", self.text[start:end].strip(), line, col)

    def key(self, tree: Any) -> str:
        text = self.text[tree.meta.start_pos:tree.meta.end_pos].strip()
        if text.startswith('"') and text.endswith('"'):
            value = _string(text[1:-1])
            return value if isinstance(value, str) else text
        return text

    def block_attrs(self, body: Any) -> tuple[dict[str, tuple[Any, _Node]], list[Any]]:
        attrs: dict[str, tuple[Any, _Node]] = {}
        blocks = []
        for item in _children(body):
            if item.data == "attribute":
                ident, value = _children(item)[0], _children(item)[-1]
                attrs[str(ident.children[0])] = (ident, self.node(value))
            elif item.data == "block":
                blocks.append(item)
        return attrs, blocks


_ESC = LazyPattern(r'\\(["\\nrt]|u[0-9a-fA-F]{4})')


def _string(body: str) -> Any:
    """An HCL quoted string's body without interpolation, or None when it interpolates."""
    if "${" in body.replace("$${", "") or "%{" in body.replace("%%{", ""):
        return None
    body = body.replace("$${", "${").replace("%%{", "%{")  # template escapes, on the source text
    return _ESC.sub(lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1))
                    if len(m.group(1)) == 1 else chr(int(m.group(1)[1:], 16)), body)


#: Bounds on what the reader computes from locals and variables (see python_sdk.py).
_MAX_TEXT = 65_536
_MAX_DIGITS = 100


class _Eval:
    def __init__(self, variables: dict[str, Any], locals_: dict[str, _Node], symbols: dict[str, tuple[str, Any]]) -> None:
        self.variables = variables
        self.locals = locals_
        self.symbols = symbols  # name -> (type, full name or Unknown)
        self.local_cache: dict[str, Any] = {}
        self.resolving: list[str] = []
        self.problems: list[str] = []

    def value(self, node: _Node) -> Any:
        if node.kind == "object":
            return {k: self.value(v) for k, (_, _, v) in node.value.items()}
        if node.kind == "list":
            return [self.value(v) for v in node.value]
        return self.expr(node.value)

    def expr(self, text: str) -> Any:
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if re.fullmatch(r"-?\d+", text):
            if len(text) > _MAX_DIGITS:  # int() refuses over 4,300 digits; no Azure setting is near
                return Unknown("a number too large to follow statically")
            return int(text)
        if re.fullmatch(r"-?\d+\.\d+", text):
            return float(text)
        if text.startswith('"') and text.endswith('"') and len(text) >= 2:
            return self.template(text[1:-1])
        m = _REF.match(text)
        if m:
            return self.ref(m)
        return Unknown(f"'{text[:40]}' is evaluated by Terraform at plan time")

    def template(self, body: str) -> Any:
        out: list[str] = []
        i = size = 0
        m = _WORKSPACE_CHILD.match(body)
        if m:  # "${var.workspace_id}/models/x/versions/1": the workspace may be left to plan time
            prefix = self.expr(m.group(1).strip())
            if isinstance(prefix, Unknown):
                body = WORKSPACE_ID + body[m.end(1) + 1:]
        while i < len(body):
            if body.startswith("$${", i) or body.startswith("%%{", i):
                out.append(body[i + 1:i + 3])
                i += 3
                continue
            if body.startswith("${", i):
                end = body.find("}", i)
                if end < 0:
                    return Unknown("unterminated ${")
                value = self.expr(body[i + 2:end].strip())
                if isinstance(value, Unknown) or isinstance(value, (dict, list)):
                    return value if isinstance(value, Unknown) else Unknown("interpolation of an object")
                out.append(str(value).lower() if isinstance(value, bool) else str(value))
                size += len(out[-1])
                if size > _MAX_TEXT:  # locals that double a string sixty times are a small file
                    return Unknown("a string too long to follow statically")
                i = end + 1
                continue
            if body.startswith("%{", i):
                return Unknown("a template directive")
            m = _ESC.match(body, i)
            if m:
                g = m.group(1)
                out.append({"n": "\n", "r": "\r", "t": "\t"}.get(g, g) if len(g) == 1 else chr(int(g[1:], 16)))
                i = m.end()
                continue
            out.append(body[i])
            i += 1
        return "".join(out)

    def ref(self, m: re.Match[str]) -> Any:
        if m.group(1) == "var":
            name = m.group(2)
            return self.variables.get(name, Unknown(f"variable '{name}' has no value (no tfvars entry, no default)"))
        if m.group(1) == "local":
            name = m.group(2)
            if name in self.local_cache:
                return self.local_cache[name]
            if name not in self.locals:
                return Unknown(f"local '{name}' is not declared")
            if name in self.resolving:
                chain = " -> ".join([*self.resolving[self.resolving.index(name):], name])
                self.problems.append(f"locals refer to each other in a circle: {chain}")
                return Unknown(f"circular local '{name}'")
            self.resolving.append(name)
            try:
                value = self.value(self.locals[name])
            finally:
                self.resolving.pop()
            self.local_cache[name] = value
            return value
        symbol, attr = m.group(3), m.group(4)
        if symbol not in self.symbols:
            return Unknown(f"azapi_resource.{symbol} is not declared here")
        rtype, full = self.symbols[symbol]
        if isinstance(full, Unknown):
            return full
        if attr == "name":
            return full.rsplit("/", 1)[-1]
        return ResourceId(rtype, tuple(full.split("/")))


def _record(file: _File, node: _Node, path: tuple[Any, ...]) -> None:
    file.pos.values[path] = (node.line, node.col)
    if node.kind == "object":
        for key, (kl, kc, child) in node.value.items():
            file.pos.keys[path + (key,)] = (kl, kc)
            _record(file, child, path + (key,))
    elif node.kind == "list":
        for i, child in enumerate(node.value):
            _record(file, child, path + (i,))


def _tfvars(path: Path, options: LoadOptions, problems: list[LoadProblem]) -> dict[str, Any] | None:
    import hcl2

    display = os.path.relpath(path) if not os.path.isabs(str(path)) else str(path)
    try:
        text = read_text(path, display, options.max_file_bytes)
        if path.suffix.lower() == ".json":
            import json

            data = json.loads(text)
            return {k: v for k, v in data.items()} if isinstance(data, dict) else {}
        deep = _too_deep(text, display)
        if deep is not None:
            problems.append(deep)
            return None
        tree = hcl2.parses_to_tree(text)
    except UserInputError as e:
        problems.append(LoadProblem("AML001", e.location or Location(display), e.message, e.hint, fatal=True))
        return None
    except Exception as e:  # lark raises many kinds  # noqa: BLE001
        problems.append(_syntax_problem(e, display))
        return None
    file = _File(path, display, text, problems)
    attrs, _ = file.block_attrs(tree.children[0])
    ev = _Eval({}, {}, {})
    return {k: ev.value(v) for k, (_, v) in attrs.items()}


def _syntax_problem(error: Exception, display: str) -> LoadProblem:
    line = getattr(error, "line", None) or 1
    col = getattr(error, "column", None) or 1
    message = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return LoadProblem("AML002", Location(display, line if line > 0 else 1, col if col > 0 else 1),
                       f"invalid HCL: {message}", "check the Terraform syntax near this position", fatal=True)


class TerraformReader(Reader):
    """Terraform files (``.tf``) with ``azapi_resource`` blocks of Machine Learning types."""

    name = "terraform"
    suffixes = (".tf",)

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        in_memory = options.overlay.text(path) if options.overlay is not None else None
        try:
            text = in_memory if in_memory is not None else read_text(path, display, options.max_file_bytes)
        except UserInputError as e:
            code = "AML004" if "larger than" in e.message else "AML001"
            result.problems.append(LoadProblem(code, e.location or Location(display), e.message, e.hint, fatal=True))
            return result
        if not _SNIFF.search(text):
            result.skipped = "no azapi resources"
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(display, 1, 1), "no azapi_resource in this Terraform file",
                    "amlforge reads online endpoints declared with the azapi provider", fatal=True))
            return result
        try:
            import hcl2
        except ImportError:
            result.problems.append(LoadProblem("AML001", Location(display, 1, 1),
                                               "reading Terraform needs python-hcl2, which is not installed",
                                               INSTALL_HINT, fatal=True))
            return result
        deep = _too_deep(text, display)
        if deep is not None:
            result.problems.append(deep)
            return result
        try:
            tree = hcl2.parses_to_tree(text)
        except RecursionError:
            result.problems.append(LoadProblem("AML003", Location(display, 1, 1), "the file nests too deeply to parse",
                                               "flatten the structure", fatal=True))
            return result
        except Exception as e:  # lark's UnexpectedInput and friends  # noqa: BLE001
            result.problems.append(_syntax_problem(e, display))
            return result
        file = _File(path, display, text, result.problems)
        try:
            return self._read(file, tree, path, explicit, options, result)
        except UserInputError as e:
            result.problems.append(LoadProblem("AML003", e.location or Location(display), e.message, e.hint, fatal=True))
            return result

    def _read(self, file: _File, tree: Any, path: Path, explicit: bool, options: LoadOptions,
              result: ReadResult) -> ReadResult:
        _, blocks = file.block_attrs(tree.children[0])
        variables: dict[str, Any] = {}
        locals_: dict[str, _Node] = {}
        resources: list[tuple[str, str, dict[str, tuple[Any, _Node]], Any]] = []
        for block in blocks:
            kids = block.children
            kind = str(kids[0].children[0])
            labels = [file.key(k) for k in kids[1:] if getattr(k, "data", None) in ("string", "identifier")]
            body = next(c for c in kids if getattr(c, "data", None) == "body")
            attrs, inner = file.block_attrs(body)
            if kind == "variable" and labels and "default" in attrs:
                variables[labels[0]] = _Eval({}, {}, {}).value(attrs["default"][1])
                if "sensitive" in attrs and attrs["sensitive"][1].value == "true" \
                        and attrs["default"][1].value not in ('""', "null"):
                    file.secure_defaults.append((attrs["default"][1].line, attrs["default"][1].col, labels[0]))
            elif kind == "locals":
                locals_.update({k: v for k, (_, v) in attrs.items()})
            elif kind == "resource" and len(labels) == 2 and labels[0] in ("azapi_resource", "azapi_update_resource"):
                resources.append((labels[0], labels[1], attrs, block))
                for sub in inner:
                    if str(sub.children[0].children[0]) == "identity":
                        sub_body = next(c for c in sub.children if getattr(c, "data", None) == "body")
                        sub_attrs, _ = file.block_attrs(sub_body)
                        attrs["identity"] = (sub, _Node("object", {k: (n.line, n.col, n) for k, (_, n) in
                                                                   sub_attrs.items()}, sub.meta.line, sub.meta.column))
        tfvars_path = Path(options.parameters) if getattr(options, "parameters", None) else None
        if tfvars_path is None:
            candidate = path.with_name("terraform.tfvars")
            tfvars_path = candidate if candidate.is_file() else None
        if tfvars_path is not None:
            given = _tfvars(tfvars_path, options, result.problems)
            if given is None:
                return result
            variables.update(given)
        symbols: dict[str, tuple[str, Any]] = {}
        ev = _Eval(variables, locals_, symbols)
        # names: parent_id chains (azapi_resource.X.id) or the workspace id variable
        pending = {name: attrs for kind, name, attrs, _ in resources if kind == "azapi_resource"}
        for _ in range(len(pending) + 1):
            for name, attrs in pending.items():
                if name in symbols and not isinstance(symbols[name][1], Unknown):
                    continue
                rtype = ev.value(attrs["type"][1]) if "type" in attrs else Unknown("no type")
                rtype = rtype.split("@", 1)[0] if isinstance(rtype, str) and not isinstance(rtype, Unknown) else rtype
                rname = ev.value(attrs["name"][1]) if "name" in attrs else Unknown("no name")
                parent = ev.value(attrs["parent_id"][1]) if "parent_id" in attrs else Unknown("no parent_id")
                full: Any = Unknown("name not known")
                if isinstance(rname, str) and not isinstance(rname, Unknown):
                    if isinstance(parent, ResourceId):
                        full = "/".join([*parent.names, rname])
                    elif isinstance(parent, str) and not isinstance(parent, Unknown) and "/workspaces/" in parent:
                        below = parent.split("/workspaces/", 1)[1].split("/")
                        full = "/".join([below[0], *below[2::2], rname])
                    elif isinstance(parent, Unknown) or isinstance(parent, str):
                        full = f"<workspace>/{rname}"  # parent_id = var.workspace_id, left to plan time
                if isinstance(rtype, str) and not isinstance(rtype, Unknown):
                    symbols[name] = (rtype, full)
        for message in dict.fromkeys(ev.problems):
            result.problems.append(LoadProblem("AML003", Location(file.display, 1, 1), message,
                                               "break the circle: one local must not need itself"))
        found: list[_Source] = []
        updates: list[tuple[Any, dict[str, Any], int]] = []
        index = 0
        for kind, name, attrs, block in resources:
            at = (index,)
            index += 1
            file.pos.values[at] = (block.meta.line, block.meta.column)
            if kind == "azapi_update_resource":
                target = ev.value(attrs["resource_id"][1]) if "resource_id" in attrs else None
                if isinstance(target, ResourceId) and "body" in attrs:
                    _record(file, attrs["body"][1], at)
                    updates.append((target, ev.value(attrs["body"][1]), index - 1))
                continue
            rtype, full = symbols.get(name, ("", Unknown("")))
            kind_of = _KINDS.get(rtype.lower())
            if kind_of is None:
                continue
            body: dict[str, Any] = {}
            if "body" in attrs:
                node = attrs["body"][1]
                _record(file, node, at)
                value = ev.value(node)
                if isinstance(value, dict):
                    body.update(value)
                else:
                    body["properties"] = value
            for key in ("location", "tags", "identity"):
                if key in attrs:
                    _record(file, attrs[key][1], at + (key,))
                    body[key] = ev.value(attrs[key][1])
            if isinstance(body.get("identity"), dict) and "identity_ids" in body["identity"]:
                ids = body["identity"].pop("identity_ids")
                if isinstance(ids, list):
                    body["identity"]["userAssignedIdentities"] = {i: {} for i in ids if isinstance(i, str)}
            file.pos.values[at + ("name",)] = (attrs["name"][1].line, attrs["name"][1].col) if "name" in attrs else \
                file.pos.values[at]
            names = tuple(full.split("/"))[1:] if isinstance(full, str) and not isinstance(full, Unknown) else ()
            src = _Source(kind_of, names, body, {}, at, None, file)
            if "location" in attrs and attrs["location"][1].kind == "expr":
                text = attrs["location"][1].value
                if text.startswith('"') and "${" not in text:
                    src.literal_location = (attrs["location"][1].line, attrs["location"][1].col, text.strip('"'))
            found.append(src)
        # azapi_update_resource: merged into the endpoint it updates (what Azure ends with)
        for target, update, upd_index in updates:
            for src in found:
                if src.kind == "endpoint" and tuple(n.lower() for n in src.names) == \
                        tuple(n.lower() for n in target.names[1:]) and isinstance(update, dict):
                    props = update.get("properties")
                    if isinstance(props, dict):
                        src.body.setdefault("properties", {}).update(props)
                        for where, pos in list(file.pos.values.items()):
                            if where[:2] == (upd_index, "properties") and len(where) > 2:
                                file.pos.values[src.at + where[1:]] = pos
                        for where, pos in list(file.pos.keys.items()):
                            if where[:2] == (upd_index, "properties") and len(where) > 2:
                                file.pos.keys[src.at + where[1:]] = pos
        result.documents.extend(documents_of(found, "terraform", explicit))
        if not result.documents and not result.problems:
            result.skipped = "no Machine Learning azapi resources"
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(file.display, 1, 1), "no azapi_resource of a Machine Learning online endpoint, "
                    "deployment, model, environment or code type in this file", "pass the .tf files that declare them",
                    fatal=True))
        return result


READER = TerraformReader()

__all__ = ["INSTALL_HINT", "READER", "TerraformReader"]
