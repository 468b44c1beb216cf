"""requires-python >=3.10 is a promise: the built wheel installs into a virtualenv of every
Python 3.10-3.13 on this machine (pyenv's, and the one running the tests) with its core
dependencies only, and lint, generate and rules work there on a shipped example.

The wheel is built once; each interpreter installs it with pip from the shared pip cache, with
``-c constraints.txt``, as ``make test`` installs the test environment: the file's pins (with
those of Python 3.10 marked where they differ) must hold on every supported version. The
interpreters used (and the supported versions not found) are written to the terminal, so nothing
is skipped silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")


def _version(python: Path) -> str | None:
    try:
        out = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def interpreters() -> dict[str, Path]:
    """One interpreter per supported minor version: the running one, then pyenv's newest patch."""
    found: dict[str, Path] = {}
    current = "%d.%d" % sys.version_info[:2]
    base = Path(getattr(sys, "_base_executable", sys.executable))
    if current in SUPPORTED:
        found[current] = base
    roots = []
    try:
        roots.append(Path(subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()))
    except OSError:
        pass
    roots.append(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")))
    for root in roots:
        versions = root / "versions"
        if not versions.is_dir():
            continue
        def key(p: Path) -> tuple[int, ...]:
            return tuple(int(x) for x in re.findall(r"\d+", p.name)[:3])
        for folder in sorted(versions.iterdir(), key=key, reverse=True):
            m = re.fullmatch(r"(3\.\d+)\.\d+", folder.name)
            python = folder / "bin" / "python3"
            if m and m.group(1) in SUPPORTED and m.group(1) not in found and python.exists():
                if _version(python) == m.group(1):
                    found[m.group(1)] = python
    return dict(sorted(found.items(), key=lambda kv: tuple(int(x) for x in kv[0].split("."))))


def _source_copy(dest: Path) -> None:
    """The files a wheel is built from (tracked or new, not ignored), away from the work tree."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z", "--", "amlforge"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in [*filter(None, listed), "pyproject.toml", "README.md"]:
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _off_pin(freeze: str, version: str) -> list[str]:
    """Distributions of a ``pip freeze`` (lower-cased) at another version than constraints.txt pins for ``version``."""
    from packaging.requirements import Requirement

    major, minor = version.split(".")
    env = {"python_version": version, "python_full_version": f"{major}.{minor}.0"}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                pins[re.sub(r"[-_.]+", "-", req.name).lower()] = str(req.specifier).removeprefix("==")
    off = []
    for line in freeze.splitlines():
        name, sep, installed = line.partition("==")
        key = re.sub(r"[-_.]+", "-", name.strip())
        if sep and key in pins and pins[key] != installed.strip():
            off.append(f"{name}=={installed} (pinned {pins[key]})")
    return off


def test_constraints_pin_each_package_once_per_python() -> None:
    """constraints.txt pins every package at most once for each of 3.10-3.13 (no two lines whose
    markers both hold), and pins for 3.10 the backports that only 3.10 installs. Whether the pins
    install is the wheel test below (core) and `make test` (everything)."""
    from packaging.requirements import Requirement

    reqs = [Requirement(ln) for ln in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]
    assert reqs and all(str(r.specifier).startswith("==") for r in reqs)
    for version in SUPPORTED:
        env = {"python_version": version, "python_full_version": f"{version}.0"}
        held = [re.sub(r"[-_.]+", "-", r.name).lower() for r in reqs if r.marker is None or r.marker.evaluate(env)]
        assert len(held) == len(set(held)), f"{version}: a package pinned twice"
        backports = {"tomli", "exceptiongroup"} & set(held)
        assert backports == ({"tomli", "exceptiongroup"} if version == "3.10" else set()), version


def test_wheel_on_every_supported_python(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    found = interpreters()
    missing = [v for v in SUPPORTED if v not in found]
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    note = ("python versions tested with the built wheel: "
            + ", ".join(f"{v} ({p})" for v, p in found.items())
            + (f"; not found on this machine: {', '.join(missing)}" if missing else ""))
    if reporter is not None:
        reporter.write_line("\n" + note)
    assert found, note
    assert "%d.%d" % sys.version_info[:2] in found

    source = tmp_path / "src"
    _source_copy(source)
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("amlforge-*.whl")

    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "sklearn-blue-green", project, ignore=shutil.ignore_patterns("generated", ".generated.*"))
    # the configuration in pyproject.toml, read with tomllib (3.11+) or tomli (3.10)
    ignore = re.search(r"^ignore = .*$", (project / ".amlforge.toml").read_text(), re.M).group(0)
    (project / ".amlforge.toml").unlink()
    (project / "pyproject.toml").write_text(f'[project]\nname = "demo"\n\n[tool.amlforge]\n{ignore}\nfail_on = "error"\n')

    failures = []
    for version, python in found.items():
        venv = tmp_path / f"venv-{version}"
        steps = [
            (python, "-m", "venv", venv),
            # with the pins of the test environment, which hold on 3.10 too (its own pins are marked)
            (venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-c", ROOT / "constraints.txt", wheel),
        ]
        for step in steps:
            done = _run(*step)
            if done.returncode != 0:
                failures.append(f"{version}: {' '.join(map(str, step[:4]))}: {done.stderr[-2000:]}")
                break
        else:
            amlforge = venv / "bin" / "amlforge"
            lint = _run(amlforge, "lint", ".", cwd=project)
            shown = _run(amlforge, "lint", "--show-settings", "blue.yml", cwd=project)
            out = tmp_path / f"out-{version}"
            generate = _run(amlforge, "generate", "amlforge.yaml", "-o", out, cwd=project)
            rules = _run(amlforge, "rules")
            checks = {
                "lint exits 0 (infos only)": lint.returncode == 0 and "AML202" in lint.stdout,
                "pyproject.toml [tool.amlforge] is read": shown.returncode == 0
                and 'fail_on        = "error"  # pyproject.toml' in shown.stdout,
                "generate writes the artifacts": generate.returncode == 0
                and (out / "arm" / "azuredeploy.json").is_file() and any((out / "azureml").glob("*.yml")),
                "rules lists the catalog": rules.returncode == 0 and "AML301" in rules.stdout,
            }
            for what, ok in checks.items():
                if not ok:
                    failures.append(f"{version}: {what}\n{lint.stdout[-1500:]}{lint.stderr[-1500:]}"
                                    f"{shown.stderr[-800:]}{generate.stderr[-1500:]}{rules.stderr[-800:]}")
            freeze = _run(venv / "bin" / "python", "-m", "pip", "freeze").stdout.lower()
            if "conda-lock" in freeze or "azure-mgmt" in freeze:
                failures.append(f"{version}: the core install pulled an extra: {freeze}")
            if version == "3.10" and "tomli==" not in freeze:
                failures.append(f"{version}: tomli is not installed on 3.10")
            off = _off_pin(freeze, version)
            if off:
                failures.append(f"{version}: installed at other versions than constraints.txt pins: {off}")
    assert not failures, "\n".join(failures)
