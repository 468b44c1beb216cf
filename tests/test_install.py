"""A lean install (issue 14, item 7): ``pip install amlforge`` brings what lint and generate
need; lock and live Azure are extras, and each command names the extra it is missing.

The core-only environment is real: a virtualenv whose site-packages holds exactly the
distributions that amlforge's core requirements resolve to (their closure, read from the
installed metadata of the test environment and linked in, so no network is needed), and
amlforge's own source. conda-lock, py-rattler and the Azure SDK are truly absent from it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CORE = PYPROJECT["project"]["dependencies"]


def _closure(requirements: list[str]) -> set[str]:
    """The installed distributions ``requirements`` resolve to, with their own requirements
    (markers evaluated for this interpreter, no extras)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(Requirement(r) for r in (metadata.distribution(name).requires or []))
    return seen


def _link_distribution(name: str, target: Path) -> None:
    """Make one installed distribution importable from ``target`` (its top-level entries and metadata)."""
    dist = metadata.distribution(name)
    top: set[str] = set()
    for f in dist.files or []:
        first = f.parts[0]
        if first.endswith(".data") or first == ".." or first == "__pycache__":
            continue
        top.add(first)
    base = Path(dist.locate_file(""))
    for entry in sorted(top):
        src, dst = base / entry, target / entry
        if src.exists() and not dst.exists():
            dst.symlink_to(src)


@pytest.fixture(scope="module")
def core_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("core-install")
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in sorted(_closure(CORE)):
        _link_distribution(name, site)
    (site / "amlforge-source.pth").write_text(str(ROOT) + "\n")
    return python


def _run(python: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AMLFORGE_DEBUG")}
    env["NO_COLOR"] = "1"
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=180, env=env)


def test_core_requirements_are_ranges_and_the_extras_are_split() -> None:
    assert {Requirement(r).name.lower() for r in CORE} == {"pydantic", "pyyaml", "jinja2", "jsonschema", "click",
                                                           "packaging", "dockerfile-parse", "tomli", "msgspec"}
    # tomli only where the standard library has no tomllib
    tomli = next(Requirement(r) for r in CORE if Requirement(r).name.lower() == "tomli")
    assert tomli.marker is not None and not tomli.marker.evaluate({"python_version": "3.11"})
    assert tomli.marker.evaluate({"python_version": "3.10"})
    extras = PYPROJECT["project"]["optional-dependencies"]
    for group in (CORE, *extras.values()):
        for r in group:
            assert "==" not in r and "===" not in r, f"{r}: pin ranges in pyproject.toml; constraints.txt pins the tests"
    assert {Requirement(r).name for r in extras["lock"]} == {"conda-lock", "py-rattler"}
    assert {Requirement(r).name for r in extras["azure"]} == {
        "azure-identity", "azure-mgmt-resource", "azure-mgmt-resource-deployments", "azure-mgmt-core"}
    assert {Requirement(r).name for r in extras["terraform"]} == {"python-hcl2"}  # the Terraform (azapi) reader
    assert {Requirement(r).name for r in extras["server"]} == {"pygls"}
    assert extras["all"] == ["amlforge[lock,azure,terraform,server]"]
    # the test environment is reproducible: every package of it is pinned in constraints.txt
    pinned = {re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
              for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line}
    assert {"conda-lock", "py-rattler", "azure-identity", "azure-ai-ml", "pydantic"} <= pinned
    assert "'.[test,lock,azure]'" in (ROOT / "Makefile").read_text() and "-c constraints.txt" in (
        ROOT / "Makefile").read_text()


def test_core_install_lacks_the_extras(core_python: Path) -> None:
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in "
             "['pydantic', 'yaml', 'jinja2', 'jsonschema', 'click', 'conda_lock', 'rattler', 'azure']}))")
    found = json.loads(_run(core_python, "-c", probe).stdout)
    assert found == {"pydantic": True, "yaml": True, "jinja2": True, "jsonschema": True, "click": True,
                     "conda_lock": False, "rattler": False, "azure": False}


def test_core_install_server_names_its_extra(core_python: Path) -> None:
    result = _run(core_python, "-m", "amlforge", "server")
    assert result.returncode == 2
    assert "pip install 'amlforge[server]'" in result.stderr


def test_core_install_lints_generates_and_lists_rules(core_python: Path, tmp_path: Path) -> None:
    core = _run(core_python, "-m", "amlforge", "lint", "--format", "json", "examples/")
    full = subprocess.run([sys.executable, "-m", "amlforge", "lint", "--format", "json", "examples/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert core.returncode == full.returncode == 1, core.stderr
    assert json.loads(core.stdout) == json.loads(full.stdout)  # the same findings, lock checks included
    spec = EXAMPLES / "sklearn-blue-green" / "amlforge.yaml"
    gen = _run(core_python, "-m", "amlforge", "generate", str(spec), "-o", str(tmp_path / "out"))
    assert gen.returncode == 0, gen.stderr
    assert (tmp_path / "out" / "arm" / "azuredeploy.json").is_file()
    rules = _run(core_python, "-m", "amlforge", "rules")
    assert rules.returncode == 0 and re.match(r"\d+ rules", rules.stdout.splitlines()[-1])


@pytest.mark.parametrize(("args", "extra"), [
    (["lock", "examples/sklearn-blue-green/environment/conda.yaml"], "lock"),
    (["azure", "validate", "examples/sklearn-blue-green/amlforge.yaml", "--subscription",
      "00000000-0000-0000-0000-000000000000", "-g", "rg"], "azure"),
    (["quota", "--live", "--subscription", "00000000-0000-0000-0000-000000000000", "--region", "westeurope",
      "examples/sklearn-blue-green"], "azure"),
])
def test_each_command_names_its_missing_extra(core_python: Path, args: list[str], extra: str) -> None:
    result = _run(core_python, "-m", "amlforge", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    command = " ".join(args[:2]) if args[0] == "quota" else args[0]
    assert f"amlforge {command} needs the '{extra}' extra" in result.stderr
    assert f"hint: pip install 'amlforge[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def _fresh_lock(folder: Path) -> Path:
    """A lock that this environment's conda-lock would call fresh: the header that ``amlforge
    lock`` writes (key of the real inputs, the lock file's digest) over a fixture's pins."""
    import shutil

    from amlforge.integrations.condalock import lockfiles

    shutil.copytree(ROOT / "tests/policies/environment/stale_conda_lock/fail/edited_after_lock", folder)
    conda = folder / "environment" / "conda.yaml"
    paths = lockfiles.lock_paths(conda)
    inputs = lockfiles.compute_lock_inputs(lockfiles.read_conda_file(conda), ("linux-64",), None)
    body = [ln for ln in paths.pinned_file.read_text().splitlines() if not ln.startswith("#")]
    header = [f"{lockfiles.KEY_PREFIX}{lockfiles._key(inputs)}",
              f"{lockfiles.INPUTS_PREFIX}{json.dumps(inputs, sort_keys=True, separators=(',', ':'))}",
              f"{lockfiles.LOCKFILE_SHA_PREFIX}{lockfiles.sha256_file(paths.lockfile)}"]
    paths.pinned_file.write_text("\n".join(header + body) + "\n")
    return conda


def test_lock_check_and_lint_judge_locks_without_the_lock_extra(core_python: Path, tmp_path: Path) -> None:
    """--check and AML418 compare files; without conda-lock they judge a lock by the conda-lock
    version it was made with, so a fresh lock is fresh and an edited one stale, as in a full install."""
    conda = _fresh_lock(tmp_path / "project")
    for args in (["lock", "--check", str(conda)], ["lint", "--format", "json", "--select", "AML418", str(conda.parent.parent)]):
        core = _run(core_python, "-m", "amlforge", *args)
        full = subprocess.run([sys.executable, "-m", "amlforge", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=180)
        assert (core.returncode, core.stdout) == (full.returncode, full.stdout), core.stdout + core.stderr
        assert core.returncode == 0, core.stdout + core.stderr
    conda.write_text(conda.read_text() + "  - requests=2.32.3\n")
    core = _run(core_python, "-m", "amlforge", "lock", "--check", str(conda))
    assert core.returncode == 1 and "stale" in core.stdout


def test_rattler_shim_names_the_extra(core_python: Path) -> None:
    result = _run(core_python, "-c", "from amlforge.integrations.rattler_micromamba import main; main(['--version'])")
    assert result.returncode == 2
    assert "needs the 'lock' extra" in result.stderr and "pip install 'amlforge[lock]'" in result.stderr
