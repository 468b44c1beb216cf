"""Small hostile sources that would make a reader compute without bound: each is linted by the
real command line, under a 2 GiB address-space limit, and must end with a located finding or a
clean run (exit 0 or 1), never an internal error (exit 3), a MemoryError or a hang.

The readers follow values statically (python_sdk.py, terraform.py, bicep.py); these inputs are a
few hundred bytes that expand to 2**64 characters, 2**40 nodes or a value that holds itself.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

SDK = "from azure.ai.ml.entities import ManagedOnlineDeployment\n"
DEPLOY = 'x = ManagedOnlineDeployment(name="blue", endpoint_name="my-endpoint", {})\n'


def _doubling(line: str, times: int = 64) -> str:
    return "".join(line + "\n" for _ in range(times))


PYTHON = {
    "string doubled 64 times": 's = "ab"\n' + _doubling("s = s + s") + DEPLOY.format("instance_type=s"),
    "f-string doubled": 's = "ab"\n' + _doubling('s = f"{s}{s}"') + DEPLOY.format("instance_type=s"),
    "list doubled": "a = [1]\n" + _doubling("a = [*a, *a]", 40) + DEPLOY.format('tags={"a": a}'),
    "integer squared": "n = 10 ** 64\n" + _doubling("n = n * n", 40) + DEPLOY.format("instance_count=n"),
    "integer powered": "n = 10 ** 64\n" + _doubling("n = n ** 64", 8) + DEPLOY.format("instance_count=n"),
    "shared dict 2**40 paths": "d = {}\n" + _doubling('d = {"a": d, "b": d}', 40) + DEPLOY.format("tags=d"),
    "dict that holds itself": 'd = {}\nd["a"] = d\n' + DEPLOY.format("environment_variables=d"),
    "entity that holds itself": DEPLOY.format('instance_type="Standard_DS3_v2"') + 'x.tags = {"me": x}\n',
    "attribute set to its owner": DEPLOY.format('instance_type="Standard_DS3_v2"') + "x.request_settings = x\n",
}

TERRAFORM = {
    "locals doubled 60 times": 'locals {\n  v0 = "ab"\n' + "".join(
        f'  v{i} = "${{local.v{i - 1}}}${{local.v{i - 1}}}"\n' for i in range(1, 60)) + "}\n",
    "a 10,000-digit number": "locals {\n  v59 = " + "9" * 10_000 + "\n}\n",
}
TF_DEPLOYMENT = """
resource "azapi_resource" "blue" {
  type      = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments@2026-05-01"
  name      = "blue"
  parent_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep"
  body = {
    properties = { endpointComputeType = "Managed", instanceType = local.v59 }
  }
}
"""

BICEP = {
    "a 100,000-digit number": "var n = " + "9" * 100_000 + "\n",
    "a 20-digit number": "var n = 99999999999999999999\n",
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _lint(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("AMLFORGE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "amlforge", "lint", str(path)], capture_output=True, text=True,
                          timeout=120, env=env, preexec_fn=_limit_memory, cwd=path.parent)


def _assert_safe(run: subprocess.CompletedProcess) -> None:
    out = run.stdout + run.stderr
    assert run.returncode in (0, 1), out
    assert "internal error" not in out and "Traceback" not in out, out


SOURCES = [("deploy.py", SDK + body) for body in PYTHON.values()] + [
    ("main.tf", body + TF_DEPLOYMENT) for body in TERRAFORM.values()]


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[*PYTHON, *TERRAFORM])
def test_values_are_followed_within_bounds(name: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(text)
    run = _lint(path)
    _assert_safe(run)
    assert re.search(r"\b1 file\b", run.stdout), run.stdout  # read, not skipped


def test_a_value_past_the_bounds_is_unknown_not_a_finding(tmp_path: Path) -> None:
    from amlforge.readers.base import LoadOptions
    from amlforge.readers.python_sdk import READER

    path = tmp_path / "deploy.py"
    half = "x" * 40_000
    path.write_text(SDK + f's = "{half}"\ns = s + s\n' + DEPLOY.format("instance_type=s"))
    (doc,) = READER.read(path, "deploy.py", True, LoadOptions(root=tmp_path)).documents
    assert doc.source.is_unknown(("instance_type",))
    assert "too large to follow statically" in doc.source.unknown[("instance_type",)]
    path.write_text(SDK + PYTHON["dict that holds itself"])
    (doc,) = READER.read(path, "deploy.py", True, LoadOptions(root=tmp_path)).documents
    assert doc.source.is_unknown(("environment_variables", "a"))


@pytest.mark.parametrize("body", list(BICEP.values()), ids=list(BICEP))
def test_bicep_numbers_past_64_bits_are_a_located_syntax_error(body: str, tmp_path: Path) -> None:
    path = tmp_path / "main.bicep"
    path.write_text("param workspaceName string\n" + body)
    run = _lint(path)
    _assert_safe(run)
    assert "main.bicep:2:9: error AML002 invalid Bicep: the number is larger than Bicep's 64-bit integers" in run.stdout


def test_python_the_parser_gives_up_on_is_a_located_nesting_error(tmp_path: Path) -> None:
    """CPython's parser raises MemoryError (not SyntaxError) on 100,000 unary minus signs."""
    deep = "n = " + "-" * 100_000 + "1\n"
    (tmp_path / "deploy.py").write_text(SDK + deep + DEPLOY.format("instance_count=n"))
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": [SDK]},
              {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": [deep]}]
    (tmp_path / "deploy.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                       "nbformat_minor": 5}))
    run = _lint(tmp_path / "deploy.py")
    _assert_safe(run)
    assert "deploy.py:1:1: error AML003 the file nests too deeply to parse" in run.stdout, run.stdout
    run = _lint(tmp_path / "deploy.ipynb")
    _assert_safe(run)
    assert "error AML003 cell 2 nests too deeply to parse" in run.stdout, run.stdout


def test_a_path_with_a_lone_surrogate_names_no_file(tmp_path: Path) -> None:
    """A JSON escape can make a string no file system can hold (\\ud800): a model path that is
    one is missing, not a crash of os.path.realpath."""
    import shutil

    from tests.conftest import ROOT

    spec = tmp_path / "gpu-pytorch" / "amlforge.yaml"
    shutil.copytree(ROOT / "examples" / "gpu-pytorch", spec.parent)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "amlforge", "generate", str(spec), "-o", str(out), "--only", "arm"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    path = out / "arm" / "azuredeploy.json"
    template = json.loads(path.read_text())
    (name,) = [k for k in template["parameters"] if k.startswith("modelUri")]
    template["parameters"][name]["defaultValue"] = "MARK"
    path.write_text(json.dumps(template, indent=2).replace('"MARK"', '"./model\\ud800"'))
    run = _lint(path)
    _assert_safe(run)
    assert "AML106" in run.stdout, run.stdout  # the model path does not exist
