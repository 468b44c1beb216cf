"""Mutations of the fuzz campaign for the readers' own syntaxes (see engine.py): JSON and ARM
templates, Bicep, Terraform, azure-ai-ml Python and Jupyter notebooks.

Each takes ``(rng, text)`` and returns the new text. Besides broken syntax they make values that a
reader following them statically must bound (a string doubled 64 times, a dict holding itself, a
copy loop of 10**8, locals in a circle) and code that must never run: ``SENTINEL`` is a file that
exists only if amlforge executed something from an input, and the runner checks it after each one.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
from pathlib import Path

#: A file that exists only if amlforge ran code from an input (readers must never execute it).
SENTINEL = Path(tempfile.gettempdir()) / f"amlforge-fuzz-executed-{os.getpid()}"


def _swap(rng: random.Random, text: str, pattern: str, new: str) -> str:
    """Replace group 1 of one random match of ``pattern`` by ``new`` (append it when none)."""
    found = list(re.finditer(pattern, text))
    if not found:
        return text + new
    m = rng.choice(found)
    return text[:m.start(1)] + new + text[m.end(1):]


def _nest(rng: random.Random, open_: str, leaf: str, close: str) -> str:
    depth = rng.choice([65, 1000, 20_000])
    return open_ * depth + leaf + close * depth


_ARM_EXPRESSIONS = [
    "[concat(" * 300 + "'a'" + ")" * 300 + "]",
    "[parameters('nope')]",
    "[variables('nope')]",
    "[reference('x').properties.y]",
    "[if(equals(1, 1), 'a', parameters('p'))]",
    "[[literal]",
    "[]",
    "[",
    "[concat('a', 'b'",
    "[format('{0}{1}', 'a')]",
    "[copyIndex(100000000)]",
    "[string(" + "1" * 5000 + ")]",
    "[json('{')]",
    "[utcNow()]",
    "[base64(" + "'a'," * 2000 + "'a')]",
    "[padLeft('a', 1000000000, 'x')]",
    "[string(range(0, 100000000))]",
    "[mul(mul(1000000000000, 1000000000000), 1000000000000)]",
    "[replace(replace('aaaaaaaaaa', 'a', 'aaaaaaaaaa'), 'a', 'aaaaaaaaaa')]",
    "[resourceId('Microsoft.MachineLearningServices/workspaces/onlineEndpoints', parameters('workspaceName'))]",
]
_JSON_STRING = r'"[^"\\\n]*":\s*("[^"\\\n]*")'


def m_json(rng: random.Random, text: str) -> str:
    """JSON and ARM templates: nesting, duplicate keys, escapes, numbers, expressions, copy loops,
    variables in a circle or doubling, nested deployments, comments."""
    choice = rng.randrange(9)
    if choice == 0:
        return _swap(rng, text, _JSON_STRING, rng.choice([_nest(rng, "[", "", "]"), _nest(rng, '{"a": ', "1", "}")]))
    if choice == 1:
        return text.replace("{", '{"name": "dup", "type": [], ', 1)
    if choice == 2:
        return _swap(rng, text, _JSON_STRING, json.dumps(rng.choice(_ARM_EXPRESSIONS)))
    if choice == 3:
        count = rng.choice(["100000000", "-1", json.dumps("[parameters('nope')]"), "0", "1e9", '"x"'])
        return text.replace('"type":', '"copy": {"name": "c", "count": ' + count + '}, "type":', rng.randint(1, 4))
    if choice == 4:
        return _swap(rng, text, _JSON_STRING, rng.choice(['"\\ud800"', '"\\u0000"', '"\\u202e"', '"\\x"', '"\\"']))
    if choice == 5:
        return _swap(rng, text, r'":\s*(\d+)', rng.choice(["1e999999", "-0", "1" * 5000, "0.1e-99999", "NaN"]))
    if choice == 6:
        if rng.random() < 0.5:
            variables = {"a": "[variables('b')]", "b": "[variables('a')]"}
            use = "[variables('a')]"
        else:
            variables = {"v0": "ab", **{f"v{i}": f"[concat(variables('v{i - 1}'), variables('v{i - 1}'))]"
                                        for i in range(1, 64)}}
            use = "[variables('v63')]"
        text = text.replace('"resources"', '"variables": ' + json.dumps(variables) + ', "resources"', 1)
        return _swap(rng, text, _JSON_STRING, json.dumps(use))
    if choice == 7:
        inner = rng.choice(['"template": {"resources": [' * 50 + "]}" * 50,
                            '"templateLink": {"uri": "file:///etc/passwd"}',
                            '"template": ' + json.dumps("[json('{}')]")])
        return text.replace('"resources": [', '"resources": [{"type": "Microsoft.Resources/deployments", '
                            '"apiVersion": "2022-09-01", "name": "n", "properties": {' + inner + "}}, ", 1)
    return text.replace("//", "/*", 1) if "//" in text else "// " + text


_BICEP_VALUE = r"(?m)^\s+\w+: ('[^'\n]*'|\d+|true|false)$"


def m_bicep(rng: random.Random, text: str) -> str:
    """Bicep: nesting, strings and interpolation, variables in a circle or doubling, loops,
    modules outside the folder or calling themselves, decorators, numbers, functions reading files."""
    choice = rng.randrange(9)
    if choice == 0:
        return _swap(rng, text, _BICEP_VALUE, rng.choice([_nest(rng, "(", "1", ")"), _nest(rng, "[", "", "]"),
                                                          _nest(rng, "{ a: ", "1", " }")]))
    if choice == 1:
        quote3 = "'" * 3
        return _swap(rng, text, _BICEP_VALUE, rng.choice(["'abc", quote3 + "abc", "'${", "'" + "${" * 500 + "'",
                                                          "'\\u{110000}'", "'\\q'", quote3 + "a" * 10_000]))
    if choice == 2:
        if rng.random() < 0.5:
            head, use = "var a = b\nvar b = a\n", "a"
        else:
            head = "var v0 = 'ab'\n" + "".join(f"var v{i} = '${{v{i - 1}}}${{v{i - 1}}}'\n" for i in range(1, 64))
            use = "v63"
        return head + _swap(rng, text, _BICEP_VALUE, use)
    if choice == 3:
        target = rng.choice(["../" * 12 + "etc/passwd", "/dev/zero", "missing.bicep", "main.bicep", "../" * 12 + "x.bicep",
                             "br:example.azurecr.io/m:1", "\u0000.bicep"])
        return text + f"\nmodule m '{target}' = {{\n  name: 'm'\n  params: {{ a: m.outputs.x }}\n}}\n"
    if choice == 4:
        bound = rng.choice(["100000000", "-1", "x", "1e9"])
        return text.replace("= {", f"= [for i in range(0, {bound}): {{", 1) + "]"
    if choice == 5:
        return rng.choice(["@description(\n", "@minValue(1)\n@secure()\n", "#disable-next-line\n", "@sys.\n"]) + text
    if choice == 6:
        return _swap(rng, text, _BICEP_VALUE, rng.choice(["9" * 100_000, "-9223372036854775808", "1.5e308", "0x10"]))
    if choice == 7:
        return text.replace("'", "\\'", rng.randint(1, 3))
    return _swap(rng, text, _BICEP_VALUE, rng.choice([
        "reference('x').y", "listKeys('a', '1').k", "resourceGroup().location", "any(null)", "union({}, {a: 1})",
        "loadTextContent('" + "../" * 12 + "etc/passwd')", "loadFileAsBase64('/dev/zero')",
        "json(loadTextContent('/proc/self/environ'))"]))


_HCL_VALUE = r'(?m)^\s+\w+\s*=\s*("[^"\n]*"|\d+|true|false)$'


def m_hcl(rng: random.Random, text: str) -> str:
    """Terraform: nesting, heredocs, interpolation and directives, locals in a circle or doubling,
    huge counts, functions reading files, modules outside the folder, broken braces."""
    choice = rng.randrange(8)
    if choice == 0:
        return _swap(rng, text, _HCL_VALUE, rng.choice([_nest(rng, "(", "1", ")"), _nest(rng, "[", "", "]"),
                                                        _nest(rng, "{ a = ", "1", " }")]))
    if choice == 1:
        return _swap(rng, text, _HCL_VALUE, rng.choice(['"abc', "<<EOT\nabc", '"${', '"' + "${" * 500 + '"',
                                                        '"%{ if x }"', '"\\u00"', '"$${x}"', "<<-EOT\n" + "a" * 10_000 + "\nEOT"]))
    if choice == 2:
        if rng.random() < 0.5:
            head, use = "locals {\n  a = local.b\n  b = local.a\n}\n", "local.a"
        else:
            head = 'locals {\n  v0 = "ab"\n' + "".join(
                f'  v{i} = "${{local.v{i - 1}}}${{local.v{i - 1}}}"\n' for i in range(1, 64)) + "}\n"
            use = "local.v63"
        return head + _swap(rng, text, _HCL_VALUE, use)
    if choice == 3:
        return text.replace("{\n", "{\n  count = " + rng.choice(["100000000", "-1", "var.n", '"x"']) + "\n", 1)
    if choice == 4:
        return _swap(rng, text, _HCL_VALUE, rng.choice(['file("/etc/passwd")', 'templatefile("/proc/self/environ", {})',
                                                        'jsondecode(file("/dev/zero"))', "9" * 10_000,
                                                        'format("%0999999999d", 1)']))
    if choice == 5:
        return text + rng.choice(['\nmodule "m" {\n  source = "' + "../" * 12 + 'etc"\n}\n',
                                  '\nvariable "v" {\n  default = var.v\n}\n', '\ndynamic "x" {\n  for_each = []\n}\n'])
    if choice == 6:
        return text.replace("=", "= = ", 1)
    return text.replace("}", "", rng.randint(1, 2))


def m_sdk(rng: random.Random, text: str) -> str:
    """azure-ai-ml Python (the seeds bind ``blue``, ``endpoint`` and ``ENDPOINT``): values that
    double, hold themselves or never end, deep calls, recursion, and code that must not run."""
    sentinel = str(SENTINEL)
    choice = rng.randrange(9)
    if choice == 0:
        return text + 's = "ab"\n' + "s = s + s\n" * rng.choice([30, 64]) + "blue.instance_type = s\n"
    if choice == 1:
        return text + "d = {}\n" + 'd = {"a": d, "b": d}\n' * 40 + "blue.tags = d\n"
    if choice == 2:
        return text + rng.choice(['d = {}\nd["a"] = d\nblue.environment_variables = d\n', "blue.request_settings = blue\n",
                                  'blue.tags = {"me": blue}\n', "endpoint.traffic = endpoint\n", "a = b\nb = a\nblue.name = a\n"])
    if choice == 3:
        return text + rng.choice(["n = 10 ** 10 ** 10\n", "n = 2 ** 2 ** 100\n", 'n = "x" * 10 ** 12\n', "n = [0] * 10 ** 12\n",
                                  "n = 10 ** 64\n" + "n = n * n\n" * 40]) + "blue.instance_count = n\n"
    if choice == 4:
        return text + ('for i in range(10 ** 9):\n    d = ManagedOnlineDeployment(name=f"d{i}", endpoint_name=ENDPOINT)\n'
                       "while True:\n    blue.instance_count += 1\n")
    if choice == 5:
        return text + rng.choice([f'open(r"{sentinel}", "w").write("ran")\n', f'__import__("os").system("touch {sentinel}")\n',
                                  f'exec("open(r{sentinel!r}, \'w\')")\n', f'blue.name = open(r"{sentinel}", "w").name\n'])
    if choice == 6:
        depth = rng.choice([100, 1000, 5000])
        return text + "x = " + "ManagedOnlineDeployment(name=" * depth + '"a"' + ")" * depth + "\n"
    if choice == 7:
        return text + 'blue.name = f"{blue.name!r:>{10 ** 9}}"\nblue.tags = {**blue.tags, **{"a": blue}}\n'
    return text + "def f():\n    return f()\n\n\nblue.name = f()\nblue.instance_type = blue.instance_type.upper()\n"


def m_notebook(rng: random.Random, text: str, python: object = None) -> str:
    """A notebook's JSON: a code cell's source mutated as Python (``python`` is engine.m_python),
    or the cell structure made odd (sources of the wrong type, other kernels, other formats)."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
        code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, RecursionError):  # an earlier mutation broke the JSON
        return m_json(rng, text)
    choice = rng.randrange(6)
    if choice <= 1 and code:
        cell = rng.choice(code)
        source = cell.get("source")
        source = "".join(map(str, source)) if isinstance(source, list) else str(source)
        mutation = m_sdk if choice == 0 or python is None else python
        cell["source"] = mutation(rng, source)  # type: ignore[operator]
    elif choice == 2 and code:
        rng.choice(code)["source"] = rng.choice([None, 42, {"a": 1}, ["a", 1], "%%bash\nrm -rf /\n", "!ls\n%pip install x\n"])
    elif choice == 3:
        nb["metadata"] = rng.choice([{"kernelspec": {"language": "R"}}, None, [], {"language_info": {"name": "python"}}])
    elif choice == 4:
        nb["nbformat"] = rng.choice([3, 5, "4", None])
        if rng.random() < 0.5:
            nb["worksheets"] = [{"cells": cells}]
    else:
        cells.extend(cells * rng.choice([10, 100]))
    return json.dumps(nb, ensure_ascii=rng.random() < 0.5)
