"""Evaluate a generated ARM template and a pycep-parsed Bicep file to the same concrete form.

Both sides are evaluated with the same parameter values (workspace ``ws``, subscription
``sub``, resource group ``rg`` in ``rgloc``), so that ``[parameters('location')]`` and
``location``, ``[resourceId(...)]`` and ``model_x.id``, ``[concat(...)]`` and ``'...${...}...'``
all become the strings ARM would send. The result, per side::

    {"params": {name: value},
     "resources": {(type, full name): {"apiVersion", "body", "dependsOn": frozenset}},
     "traffic": {deployment name: {"dependsOn", "resource": {type, name, apiVersion, body}}}}

Only the expression forms amlforge writes are understood; anything else fails loudly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SUB, RG, RG_LOCATION = "sub", "rg", "rgloc"
WORKSPACE = "ws"
ML = "Microsoft.MachineLearningServices"


def resource_id(type_: str, names: list[str]) -> str:
    """``/subscriptions/sub/resourceGroups/rg/providers/<ns>/<t1>/<n1>/<t2>/<n2>...``."""
    namespace, *types = type_.split("/")
    assert len(types) == len(names), (type_, names)
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names))
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{namespace}/{path}"


# ---------------------------------------------------------------------------------------------
# ARM

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),.\[\]]))")


class _ArmExpr:
    def __init__(self, text: str, params: dict[str, Any]) -> None:
        self.tokens = [m for m in _TOKEN.finditer(text)]
        consumed = "".join(m.group(0) for m in self.tokens).strip()
        assert consumed == text.strip(), f"cannot tokenise ARM expression {text!r}"
        self.pos = 0
        self.params = params

    def peek(self) -> str:
        return self.tokens[self.pos].group().strip() if self.pos < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> re.Match[str]:
        token = self.tokens[self.pos]
        self.pos += 1
        if expected is not None:
            assert token.group().strip() == expected, (expected, token.group())
        return token

    def parse(self) -> Any:
        value = self.primary()
        while self.peek() == ".":
            self.take(".")
            prop = self.take().group("name")
            value = value[prop]
        return value

    def primary(self) -> Any:
        token = self.take()
        if token.group("str"):
            return token.group("str")[1:-1].replace("''", "'")
        if token.group("num"):
            return int(token.group("num"))
        name = token.group("name")
        if name in ("true", "false"):
            return name == "true"
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.parse())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        return self.call(name, args)

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "parameters":
            return self.params[args[0]]
        if name == "concat":
            return "".join(str(a) for a in args)
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), args[0])
        if name == "resourceId":
            return resource_id(args[0], [str(a) for a in args[1:]])
        if name == "resourceGroup":
            return {"location": RG_LOCATION, "name": RG}
        if name == "subscription":
            return {"subscriptionId": SUB}
        raise AssertionError(f"ARM function {name}() is not expected in generated templates")


def arm_value(value: Any, params: dict[str, Any]) -> Any:
    """Evaluate an ARM JSON value: expressions in ``[...]``, ``[[`` escapes, containers. Keys
    are evaluated too, as ARM does (a key ``[x()]`` is an expression, ``[[x]`` the text ``[x]``)."""
    if isinstance(value, str):
        if value.startswith("[[") and value.endswith("]"):
            return value[1:]
        if value.startswith("[") and value.endswith("]"):
            return _ArmExpr(value[1:-1], params).parse()
        return value
    if isinstance(value, dict):
        return {arm_value(k, params): arm_value(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [arm_value(v, params) for v in value]
    return value


def _arm_params(definitions: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, definition in definitions.items():
        if name in given:
            params[name] = given[name]
        elif "defaultValue" in definition:
            params[name] = arm_value(definition["defaultValue"], params)
    return params


def _id_key(value: str) -> tuple[str, str]:
    """(type, full name) of a resource id built by :func:`resource_id`."""
    parts = value.split("/providers/", 1)[1].split("/")
    namespace, rest = parts[0], parts[1:]
    return namespace + "/" + "/".join(rest[0::2]), "/".join(rest[1::2])


_ENVELOPE = ("type", "apiVersion", "name", "dependsOn")


def _arm_resource(resource: dict[str, Any], params: dict[str, Any]) -> tuple[tuple[str, str], dict[str, Any]]:
    name = arm_value(resource["name"], params)
    body = {arm_value(k, params): arm_value(v, params) for k, v in resource.items() if k not in _ENVELOPE}
    deps = frozenset(_id_key(arm_value(d, params)) for d in resource.get("dependsOn", []))
    return (resource["type"], name), {"apiVersion": resource["apiVersion"], "body": body, "dependsOn": deps}


def evaluate_arm(template: dict[str, Any], workspace: str = WORKSPACE) -> dict[str, Any]:
    """The concrete resources of a generated ARM template."""
    params = _arm_params(template.get("parameters", {}), {"workspaceName": workspace})
    out: dict[str, Any] = {"params": params, "resources": {}, "traffic": {}}
    for r in template["resources"]:
        if r["type"] == "Microsoft.Resources/deployments":
            props = r["properties"]
            inner_given = {k: arm_value(v["value"], params) for k, v in props["parameters"].items()}
            inner = props["template"]
            inner_params = _arm_params(inner.get("parameters", {}), inner_given)
            assert len(inner["resources"]) == 1
            key, res = _arm_resource(inner["resources"][0], inner_params)
            deps = frozenset(_id_key(arm_value(d, params)) for d in r.get("dependsOn", []))
            out["traffic"][arm_value(r["name"], params)] = {"dependsOn": deps, "resource": (key, res["apiVersion"], res["body"])}
        else:
            key, res = _arm_resource(r, params)
            out["resources"][key] = res
    return out


# ---------------------------------------------------------------------------------------------
# Bicep (pycep's JSON)

_BICEP_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]+\}|.)")


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        code = m.group(1)
        if code.startswith("u{"):
            return chr(int(code[2:-1], 16))
        return {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", "$": "$"}[code]

    return _BICEP_ESCAPE.sub(repl, text)


class _Bicep:
    def __init__(self, parsed: dict[str, Any], given: dict[str, Any]) -> None:
        from pycep.models import BicepElement

        self.element = BicepElement
        self.parsed = parsed
        self.params: dict[str, Any] = {}
        self.resources = parsed.get("resources", {})
        self.refs: set[str] = set()
        for name, definition in parsed.get("parameters", {}).items():
            if name in given:
                self.params[name] = given[name]
            elif definition.get("default") is not None:
                self.params[name] = self.value(definition["default"])

    def full_name(self, symbol: str) -> str:
        config = self.resources[symbol]["config"]
        name = self.value(config["name"])
        parent = config.get("parent")
        return f"{self.full_name(str(parent))}/{name}" if parent else name

    def key(self, symbol: str) -> tuple[str, str]:
        return self.resources[symbol]["type"], self.full_name(symbol)

    def id(self, symbol: str) -> str:
        type_, name = self.key(symbol)
        return resource_id(type_, name.split("/"))

    def interpolate(self, text: str) -> str:
        out, i = [], 0
        while i < len(text):
            if text[i] == "\\":
                m = _BICEP_ESCAPE.match(text, i)
                assert m is not None
                out.append(_unescape(m.group()))
                i = m.end()
            elif text.startswith("${", i):
                end = text.index("}", i)
                out.append(str(self.expression(text[i + 2:end])))
                i = end + 1
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def expression(self, text: str) -> Any:
        text = text.strip()
        if text == "resourceGroup().location":
            return RG_LOCATION
        if text == "resourceGroup().name":
            return RG
        if text == "subscription().subscriptionId":
            return SUB
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\.(id|name))?", text)
        assert m, f"unexpected Bicep expression {text!r}"
        return self.reference(m.group(1), m.group(2))

    def reference(self, symbol: str, prop: str | None) -> Any:
        if prop is None and symbol in self.params:
            return self.params[symbol]
        assert symbol in self.resources, f"unknown Bicep symbol {symbol!r}"
        if not self.resources[symbol].get("existing"):
            self.refs.add(symbol)
        return self.id(symbol) if prop == "id" else self.value(self.resources[symbol]["config"]["name"])

    def value(self, value: Any) -> Any:
        if isinstance(value, self.element):
            return self.expression(str(value))
        if isinstance(value, str):
            return self.interpolate(value)
        if isinstance(value, dict):
            if set(value) == {"operator"}:
                op = value["operator"]
                assert op["type"] == "property_accessor", op
                first, prop = op["operands"]["operand_1"], op["operands"]["operand_2"]
                if isinstance(first, dict) and "function" in first:
                    kind = first["function"]["type"]
                    return {"resource_group": {"location": RG_LOCATION, "name": RG},
                            "subscription": {"subscriptionId": SUB}}[kind][prop]
                return self.reference(str(first), str(prop))
            assert "function" not in value, f"unexpected Bicep function call {value}"
            return {self._key(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    @staticmethod
    def _key(key: str) -> str:
        return _unescape(key[1:-1]) if key.startswith("'") and key.endswith("'") else key

    def resource(self, symbol: str) -> tuple[tuple[str, str], dict[str, Any]]:
        declared = self.resources[symbol]
        config = declared["config"]
        self.refs = set()
        body = {k: self.value(v) for k, v in config.items() if k not in ("parent", "name", "dependsOn")}
        deps = set(self.refs)
        parent = config.get("parent")
        if parent and not self.resources[str(parent)].get("existing"):
            deps.add(str(parent))
        deps.update(str(d) for d in config.get("dependsOn", []))
        return self.key(symbol), {"apiVersion": declared["api_version"], "body": body,
                                  "dependsOn": frozenset(self.key(d) for d in deps)}


def evaluate_bicep(main: Path, workspace: str = WORKSPACE) -> dict[str, Any]:
    """The concrete resources of a generated Bicep file (and its local modules)."""
    from pycep import BicepParser

    parser = BicepParser()
    top = _Bicep(parser.parse(file_path=main), {"workspaceName": workspace})
    out: dict[str, Any] = {"params": dict(top.params), "resources": {}, "traffic": {}}
    for symbol, declared in top.resources.items():
        if declared.get("existing"):
            continue
        key, res = top.resource(symbol)
        out["resources"][key] = res
    for symbol, module in top.parsed.get("modules", {}).items():
        assert module["type"] == "local"
        config = module["config"]
        given = {k: top.value(v) for k, v in config["params"].items()}
        inner = _Bicep(parser.parse(file_path=main.parent / module["detail"]["path"]), given)
        deployed = [s for s, r in inner.resources.items() if not r.get("existing")]
        assert len(deployed) == 1
        key, res = inner.resource(deployed[0])
        deps = frozenset(top.key(str(d)) for d in config.get("dependsOn", []))
        out["traffic"][top.value(config["name"])] = {"dependsOn": deps, "resource": (key, res["apiVersion"], res["body"])}
    return out
