"""Tests of environment locking: real conda-lock, real py-rattler solver, real channel.

A session fixture builds a tiny local ``file://`` conda channel (real ``.tar.bz2`` and
``.conda`` packages, genuine hashes); conda-lock runs as a subprocess with the embedded
``amlforge-rattler-micromamba`` solver. The ``pip:`` test resolves against the PyPI index
pip is configured with and asserts structure and exact pins, not versions that drift.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from amlforge.errors import UserInputError
from amlforge.integrations import condalock
from amlforge.integrations.condalock import (
    ChannelNotFoundError,
    CondaFileError,
    IndexUnreachableError,
    SolverNotFoundError,
    UnsolvableEnvironmentError,
    check_lock,
    lock_conda_file,
    lock_paths,
    read_lockfile,
    resolve_solver,
)
from amlforge.integrations.rattler_micromamba import parse_args

try:  # tests/ may or may not be a package
    from .conda_channel import DEFAULT_PACKAGES, FakePackage, add_packages, build_channel
except ImportError:
    from conda_channel import (  # type: ignore[no-redef]
        DEFAULT_PACKAGES,
        FakePackage,
        add_packages,
        build_channel,
    )

pytestmark = pytest.mark.slow

CONDA_PIN = re.compile(r"^[a-z0-9_.\-]+=[^=\s]+=[^=\s]+$")
PIP_PIN = re.compile(r"^[A-Za-z0-9_.\-]+==[0-9][^\s=]*$")
PY311 = ("python >=3.11,<3.12.0a0", "python_abi 3.11.* *_cp311")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def _hermetic_caches(tmp_path_factory: pytest.TempPathFactory):
    """Keep conda-lock's, poetry's and rattler's caches out of the user's home (for this
    module only: other test modules keep their own cache settings)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def channel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the shared, read-only test channel."""
    return build_channel(tmp_path_factory.mktemp("channel"))


def write_env(path: Path, channel: str, deps: list[str], pip: list[str] | None = None,
              name: str = "test-env") -> Path:
    """Write a conda file."""
    lines = [f"name: {name}", "channels:", f"  - {channel}", "dependencies:"]
    lines += [f"  - {d}" for d in deps]
    if pip is not None:
        lines.append("  - pip:")
        lines += [f"      - {p}" for p in pip]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(*args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m amlforge lock ...`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "amlforge", "lock", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )


def pinned(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def conda_pins(path: Path) -> dict[str, str]:
    """name -> ``name=version=build`` of a pinned file's conda part."""
    return {d.split("=")[0]: d for d in pinned(path)["dependencies"] if isinstance(d, str)}


def assert_no_temp_files(directory: Path) -> None:
    leftovers = [p.name for p in directory.iterdir() if ".tmp" in p.name]
    assert leftovers == []


def assert_clean_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    error_lines = [ln for ln in proc.stderr.splitlines() if "error:" in ln]
    assert len(error_lines) == 1, proc.stderr
    return error_lines[0]


# --------------------------------------------------------------------------- channel


def test_test_channel_holds_real_packages(channel: str, tmp_path: Path) -> None:
    """Every archive extracts with rattler and matches repodata; rattler-index agrees."""
    import rattler
    from rattler.package_streaming import extract

    root = Path(channel.removeprefix("file://"))
    formats = set()
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((root / subdir / "repodata.json").read_text())
        for key in ("packages", "packages.conda"):
            for fn, rec in repodata[key].items():
                formats.add(key)
                dest = tmp_path / "x" / fn
                sha256, md5 = extract(root / subdir / fn, dest)
                assert (sha256.hex(), md5.hex()) == (rec["sha256"], rec["md5"]), fn
                assert rec["size"] == (root / subdir / fn).stat().st_size
                index = rattler.IndexJson.from_package_directory(dest)
                assert (index.name.normalized, str(index.version)) == (rec["name"], rec["version"])
    assert formats == {"packages", "packages.conda"}

    copy = tmp_path / "reindexed"
    shutil.copytree(root, copy)
    asyncio.run(rattler.index.index_fs(copy, write_zst=False, write_shards=False, force=True))
    for subdir in ("linux-64", "noarch"):
        ours = json.loads((root / subdir / "repodata.json").read_text())
        theirs = json.loads((copy / subdir / "repodata.json").read_text())
        for key in ("packages", "packages.conda"):
            assert ours[key].keys() == theirs[key].keys()
            for fn, rec in ours[key].items():
                for field in ("md5", "sha256", "size", "name", "version", "build"):
                    assert rec[field] == theirs[key][fn][field], (fn, field)


# --------------------------------------------------------------------------- shim


def test_shim_answers_conda_lock_commands(channel: str, tmp_path: Path) -> None:
    shim = resolve_solver("embedded")
    assert shim.kind == "embedded" and shim.path.name.endswith("micromamba")
    version = subprocess.run([shim.path, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == "2.3.0"

    env = {**os.environ, "CONDA_SUBDIR": "linux-64", "CONDA_PKGS_DIRS": str(tmp_path)}
    config = subprocess.run([shim.path, "config", "--json", "list", "pkgs_dirs"],
                            capture_output=True, text=True, env=env)
    assert json.loads(config.stdout)["pkgs_dirs"] == [str(tmp_path)]

    # Repeated: py-rattler can crash the interpreter at exit (SIGABRT/SIGSEGV) after a
    # solve; the shim must exit cleanly every time or conda-lock reports a failure.
    for _ in range(6):
        solve = subprocess.run(
            [shim.path, "create", "--prefix", str(tmp_path / "p"), "--dry-run", "--json",
             "--override-channels", "--channel", channel, "python 3.11.*", "numpy <2"],
            capture_output=True, text=True, env={**env, "CONDA_OVERRIDE_GLIBC": "2.28"})
        assert solve.returncode == 0, (solve.returncode, solve.stderr[-500:])
    fetch = {a["name"]: a for a in json.loads(solve.stdout)["actions"]["FETCH"]}
    assert fetch["numpy"]["version"] == "1.26.4"
    assert fetch["python"]["url"].startswith(channel)
    assert all(a["sha256"] and a["md5"] for a in fetch.values())

    refused = subprocess.run([shim.path, "create", "-p", str(tmp_path / "p"), "--json",
                              "--channel", channel, "python"], capture_output=True, text=True)
    assert refused.returncode == 1 and json.loads(refused.stdout)["success"] is False

    inv = parse_args(["update", "-p", "/x", "--channel=c1", "-c", "c2", "--json",
                      "--dry-run", "numpy >=2"])
    assert (inv.command, inv.prefix, inv.channels, inv.specs, inv.dry_run) == (
        "update", "/x", ["c1", "c2"], ["numpy >=2"], True)


def test_solver_selection(channel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SolverNotFoundError):
        resolve_solver(tmp_path / "no-such-conda")
    # A conda-compatible executable named micromamba on PATH is preferred by "auto" and
    # is what conda-lock then runs (here: the shim under that name, since no real
    # micromamba can be installed on the test machine).
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "micromamba").symlink_to(resolve_solver("embedded").path)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MAMBA_EXE", raising=False)
    monkeypatch.delenv("CONDA_EXE", raising=False)
    auto = resolve_solver("auto")
    assert (auto.kind, auto.path) == ("micromamba", bindir / "micromamba")
    assert resolve_solver("embedded").kind == "embedded"
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11"])
    result = lock_conda_file(conda_file)  # solver="auto"
    assert result.action == "locked" and result.solver == auto


# --------------------------------------------------------------------------- locking


def test_lock_conda_only(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel,
                           ["python=3.11", "numpy<2", "scikit-learn"], name="sklearn-env")
    events: list[condalock.LockProgress] = []
    result = lock_conda_file(conda_file, solver="embedded", on_progress=events.append)

    paths = lock_paths(conda_file)
    assert result.action == "locked" and result.ok
    assert (result.lockfile, result.pinned_file) == (paths.lockfile, paths.pinned_file)
    assert paths.lockfile.name == "conda-lock.yml" and paths.pinned_file.name == "conda.lock.yaml"
    assert {e.stage for e in events} >= {"start", "solve", "done"}

    lock = yaml.safe_load(paths.lockfile.read_text())
    assert lock["metadata"]["platforms"] == ["linux-64"]
    packages = lock["package"]
    assert {p["manager"] for p in packages} == {"conda"}
    for p in packages:
        assert p["url"].startswith(channel + "/")
        assert re.fullmatch(r"[0-9a-f]{32}", p["hash"]["md5"])
        assert re.fullmatch(r"[0-9a-f]{64}", p["hash"]["sha256"])

    env = pinned(paths.pinned_file)
    assert env["name"] == "sklearn-env" and env["channels"] == [channel]
    assert all(CONDA_PIN.match(d) for d in env["dependencies"]), env["dependencies"]
    pins = conda_pins(paths.pinned_file)
    # The local channel does not drift, so exact versions are safe to assert here.
    assert pins["numpy"] == "numpy=1.26.4=py311h64a7726_0"
    assert pins["python"].startswith("python=3.11.9=")
    assert {"scikit-learn", "scipy", "joblib", "threadpoolctl"} <= pins.keys()
    # Exactly the lock's packages, with builds taken from the package file names.
    assert sorted(pins.values()) == sorted(p.pin for p in read_lockfile(paths.lockfile))

    header = paths.pinned_file.read_text().splitlines()
    assert f"# amlforge-lock-key: {result.key}" in header
    assert check_lock(conda_file).state == "fresh"
    assert_no_temp_files(tmp_path)

    # The pinned file is a complete, consistent environment: solving it gives itself.
    import rattler

    records = asyncio.run(rattler.solve(
        sources=[channel], platforms=["linux-64", "noarch"],
        specs=["{} =={} {}".format(*d.split("=")) for d in env["dependencies"]],
        virtual_packages=[rattler.GenericVirtualPackage(
            rattler.PackageName("__glibc"), rattler.Version("2.28"), rattler.BuildString("0"))],
    ))
    solved = sorted(f"{r.name.normalized}={r.version}={r.build}" for r in records)
    assert solved == sorted(env["dependencies"])


def test_cache_hit_does_not_rerun_conda_lock(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11", "joblib"])
    first = lock_conda_file(conda_file, solver="embedded")
    lock_before = first.lockfile.stat()

    # A solver path that does not exist proves conda-lock is not started on a cache hit:
    # resolving it would raise SolverNotFoundError. (How fast a hit is, bench/bench_lock.py measures.)
    second = lock_conda_file(conda_file, solver=str(tmp_path / "missing-solver"))
    assert second.action == "cached" and second.solver is None
    assert [p.pin for p in second.packages] == [p.pin for p in first.packages]
    after = first.lockfile.stat()
    assert (after.st_mtime_ns, after.st_ino) == (lock_before.st_mtime_ns, lock_before.st_ino)

    # Formatting and comments do not make the lock stale; a real edit does.
    conda_file.write_text("# a comment\n" + conda_file.read_text().replace("  - ", "    - "))
    assert check_lock(conda_file).state == "fresh"

    # Through the CLI, a cache hit starts no solver either.
    proc = run_cli(conda_file, "--solver", tmp_path / "missing-solver")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_check_detects_edit_and_missing_lock(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11", "numpy<2"])
    paths = lock_paths(conda_file)

    proc = run_cli("--check", conda_file)
    assert proc.returncode == 1 and "missing" in proc.stdout
    assert not paths.lockfile.exists()  # --check never locks

    assert run_cli(conda_file, "--solver", "embedded").returncode == 0
    proc = run_cli("--check", conda_file)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("conda.yaml: fresh")

    conda_file.write_text(conda_file.read_text() + "  - scipy\n")
    proc = run_cli("--check", conda_file, "--format", "json")
    assert proc.returncode == 1
    status = json.loads(proc.stdout)["results"][0]["status"]
    assert status["state"] == "stale"
    assert "'scipy'" in status["reason"] and status["line"] == 7
    lint_status = check_lock(conda_file)
    assert (lint_status.location.line, lint_status.location.column) == (7, 5)

    # Other platforms are other inputs.
    assert check_lock(conda_file, ["linux-64", "osx-arm64"]).state == "stale"

    # A lock file edited by hand is stale too.
    conda_file.write_text(conda_file.read_text().replace("  - scipy\n", ""))
    assert check_lock(conda_file).state == "fresh"
    paths.lockfile.write_text(paths.lockfile.read_text() + "\n# edited\n")
    assert "changed after" in check_lock(conda_file).reason

    paths.pinned_file.unlink()
    proc = run_cli("--check", conda_file)
    assert proc.returncode == 1 and "missing" in proc.stdout


def test_lock_with_pip_section(channel: str, tmp_path: Path) -> None:
    index = condalock.pip_index_url()
    try:
        urllib.request.urlopen(index.rstrip("/") + "/six/", timeout=15).close()
    except OSError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PyPI index {index} not reachable: {exc}")
    conda_file = write_env(tmp_path / "environment.yml", channel,
                           ["python=3.11", "pip", "numpy<2"], pip=["six", "numpy"])
    result = lock_conda_file(conda_file, solver="embedded")
    assert result.lockfile.name == "environment.conda-lock.yml"
    assert result.pinned_file.name == "environment.lock.yaml"

    pip_pkgs = [p for p in result.packages if p.manager == "pip"]
    assert [p.name for p in pip_pkgs] == ["six"]  # numpy comes from conda, not twice
    six = pip_pkgs[0]
    assert re.fullmatch(r"[0-9a-f]{64}", six.sha256) and six.url.startswith("http")
    assert any(p.name == "numpy" and p.manager == "conda" for p in result.packages)

    env = pinned(result.pinned_file)
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_block = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert all(CONDA_PIN.match(d) for d in conda_deps)
    assert any(d.startswith("pip=") for d in conda_deps)
    assert pip_block == [{"pip": [f"six=={six.version}"]}]
    assert PIP_PIN.match(pip_block[0]["pip"][0])


def test_unsolvable_environment_keeps_old_lock(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11", "scipy"])
    good = lock_conda_file(conda_file, solver="embedded")
    saved = {p: p.read_bytes() for p in (good.lockfile, good.pinned_file)}

    write_env(conda_file, channel, ["python=3.11", "numpy>=2", "scipy"])
    with pytest.raises(UnsolvableEnvironmentError) as info:
        lock_conda_file(conda_file, solver="embedded")
    err = info.value
    assert {r.spec for r in err.conflicts} == {"numpy>=2", "scipy"}
    assert "ImageBuildFailure" in err.message and "numpy>=2" in err.message
    assert err.location is not None and err.location.line == 6
    assert "numpy" in err.details  # the solver's own explanation is kept
    assert {p: p.read_bytes() for p in saved} == saved
    assert check_lock(conda_file).state == "stale"
    assert_no_temp_files(tmp_path)

    proc = run_cli(conda_file, "--solver", "embedded")
    line = assert_clean_error(proc)
    assert "conflicting requirements numpy>=2 (line 6), scipy (line 7)" in line
    assert "ImageBuildFailure" in line
    assert {p: p.read_bytes() for p in saved} == saved


def test_pip_pin_survives_a_pip_section(tmp_path: Path) -> None:
    """conda-lock 4.0.3 replaces ``pip=X`` by ``pip *`` when there is a pip: section
    (conda/conda-lock#919); amlforge restores the pin. The pip: section here is satisfied
    by conda's numpy, so no PyPI request is made."""
    older_pip = FakePackage("pip", "23.3.1", "pyhd8ed1ab_0", 0, "noarch",
                            ("python >=3.7", "setuptools", "wheel"), noarch="python")
    url = build_channel(tmp_path / "chan", (*DEFAULT_PACKAGES, older_pip))
    conda_file = write_env(tmp_path / "conda.yaml", url, ["python=3.11", "numpy<2", "pip=23.3"],
                           pip=["numpy"])
    result = lock_conda_file(conda_file, solver="embedded")
    assert conda_pins(result.pinned_file)["pip"] == "pip=23.3.1=pyhd8ed1ab_0"
    assert [p.name for p in result.packages if p.manager == "pip"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chan", "conda-lock.yml", "conda.lock.yaml", "conda.yaml"]


def test_cache_hit_imports_neither_conda_lock_nor_rattler(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11"])
    lock_conda_file(conda_file, solver="embedded")
    code = ("import sys; from pathlib import Path; "
            "from amlforge.integrations.condalock import lock_conda_file as f; "
            f"r = f(Path({str(conda_file)!r})); "
            "print(r.action, 'conda_lock' in sys.modules, 'rattler' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["cached", "False", "False"], out.stderr


def test_update_one_package_keeps_the_others(tmp_path: Path) -> None:
    chan_dir = tmp_path / "chan"
    url = build_channel(chan_dir, DEFAULT_PACKAGES)
    conda_file = write_env(tmp_path / "conda.yaml", url, ["python=3.11", "numpy", "joblib"])
    before = lock_conda_file(conda_file, solver="embedded")
    old = conda_pins(before.pinned_file)
    assert old["numpy"].startswith("numpy=2.0.0=") and old["joblib"].startswith("joblib=1.4.2=")

    add_packages(chan_dir, [
        FakePackage("numpy", "2.0.1", "py311h1461c94_0", 0, "linux-64",
                    ("libgcc-ng >=12", "libstdcxx-ng >=12", *PY311), fmt="conda"),
        FakePackage("joblib", "1.5.0", "pyhd8ed1ab_0", 0, "noarch",
                    ("python >=3.8", "setuptools"), noarch="python"),
    ])
    updated = lock_conda_file(conda_file, solver="embedded", update=["numpy"])
    new = conda_pins(updated.pinned_file)
    assert new["numpy"].startswith("numpy=2.0.1=")
    assert {k: v for k, v in new.items() if k != "numpy"} == \
        {k: v for k, v in old.items() if k != "numpy"}
    assert check_lock(conda_file).state == "fresh"

    # Without --update, a forced re-lock moves joblib as well: the update was selective.
    relocked = lock_conda_file(conda_file, solver="embedded", force=True)
    assert conda_pins(relocked.pinned_file)["joblib"].startswith("joblib=1.5.0=")

    with pytest.raises(UserInputError, match="not a direct dependency"):
        lock_conda_file(conda_file, solver="embedded", update=["libzlib"])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: x\nchannels: [c]\ndependencies:\n  - python=3.11\n - numpy\n",
         ":5:2: error: malformed conda file"),
        ("name: x\nchannels: [c]\ndependencies: numpy\n",
         ":3:15: error: malformed conda file: 'dependencies' must be a list"),
        ("name: x\nchannels: [c]\n", "no 'dependencies' list"),
        ("name: x\nchannels: [c]\ndependencies:\n  - numpy\n  - pip:\n      - six\n",
         ":6:9: error: malformed conda file: a 'pip:' section needs python"),
        ("name: x\nchannels: [c]\ndependencies:\n  - python=3.11\n  - {conda: numpy}\n",
         ":5:5: error: malformed conda file: a dependency must be a package spec"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: x\nchannels: [c]\ndependencies:\n  - numpy>=1.2\n  - python\n  - numpy<2\n",
         ":6:5: error: numpy is listed twice in dependencies (lines 4 and 6)"),
    ],
    ids=["yaml-indent", "deps-not-list", "no-deps", "pip-without-python", "bad-entry",
         "not-mapping", "duplicate"],
)
def test_malformed_conda_file_exits_2(tmp_path: Path, content: str, expected: str) -> None:
    conda_file = tmp_path / "conda.yaml"
    conda_file.write_text(content)
    line = assert_clean_error(run_cli(conda_file))
    assert expected in line
    with pytest.raises(CondaFileError):
        check_lock(conda_file)


def test_invalid_requirement_exits_2(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11", "numpy>>2"])
    line = assert_clean_error(run_cli(conda_file, "--solver", "embedded"))
    assert "conda.yaml:6:5: error: invalid conda requirement 'numpy>>2'" in line


def test_missing_channel_exits_2(channel: str, tmp_path: Path) -> None:
    missing = (tmp_path / "no-such-channel").as_uri()
    conda_file = write_env(tmp_path / "conda.yaml", missing, ["python=3.11"])
    line = assert_clean_error(run_cli(conda_file, "--solver", "embedded"))
    assert f":3:5: error: channel {missing} not found" in line
    with pytest.raises(ChannelNotFoundError):
        lock_conda_file(conda_file, solver="embedded")
    # The same through --channel, which overrides the file's channels.
    good = write_env(tmp_path / "good.yaml", channel, ["python=3.11"])
    line = assert_clean_error(run_cli(good, "--channel", missing))
    assert "(from --channel) not found" in line
    assert not lock_paths(good).lockfile.exists()


def test_unreachable_channel_exits_2(tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", "http://127.0.0.1:9/chan", ["python=3.11"])
    line = assert_clean_error(run_cli(conda_file, "--solver", "embedded"))
    assert "cannot reach conda channel http://127.0.0.1:9/chan" in line
    with pytest.raises(IndexUnreachableError):
        lock_conda_file(conda_file, solver="embedded")


def test_unreachable_pypi_index_exits_2(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11"], pip=["six"])
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}
    env.pop("POETRY_REPOSITORIES_PYPISIMPLE_URL", None)
    line = assert_clean_error(run_cli(conda_file, "--solver", "embedded", env=env))
    assert "cannot reach the package index http://127.0.0.1:9/simple" in line
    assert not lock_paths(conda_file).lockfile.exists()


def test_cli_several_files_json(channel: str, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_env(tmp_path / "a" / "conda.yaml", channel, ["python=3.11"])
    b = write_env(tmp_path / "b" / "conda.yaml", channel, ["python=3.12"])
    bad = tmp_path / "missing.yaml"
    proc = run_cli(a, b, bad, "--solver", "embedded", "--format", "json")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    actions = [r["action"] for r in doc["results"]]
    assert actions == ["locked", "locked", "failed"]
    assert doc["results"][2]["error"]["type"] == "CondaFileError"
    assert conda_pins(lock_paths(b).pinned_file)["python"].startswith("python=3.12.3=")
    checked = run_cli(a, b, "--check")
    assert checked.returncode == 0, checked.stdout
    unknown = run_cli(a, "--platform", "linux-65")
    assert "unknown platform" in assert_clean_error(unknown)


def test_key_covers_inputs(channel: str, tmp_path: Path) -> None:
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11"])
    env = condalock.read_conda_file(conda_file)
    base = condalock.compute_lock_inputs(env, ["linux-64"])
    assert base["conda-lock"] == "4.0.3" and base["amlforge"]
    assert base["channels"] == [channel] and base["platforms"] == ["linux-64"]
    other = condalock.compute_lock_inputs(env, ["linux-64"], ["file:///elsewhere"])
    assert other["channels"] == ["file:///elsewhere"]
    # A platform selector is part of the input even though it is a YAML comment.
    conda_file.write_text(conda_file.read_text().replace("python=3.11", "python=3.11  # [linux]"))
    selected = condalock.compute_lock_inputs(condalock.read_conda_file(conda_file), ["linux-64"])
    assert selected["conda_file"] != base["conda_file"]
    # The key is the hash of exactly these inputs.
    digest = hashlib.sha256(json.dumps(selected, sort_keys=True, separators=(",", ":")).encode())
    assert check_lock(conda_file).key == "sha256:" + digest.hexdigest()


def test_lint_rule_reads_the_real_lock(channel: str, tmp_path: Path) -> None:
    """AML418: a fresh lock is silent; editing the conda file after locking is reported at its line."""
    from amlforge.policies.engine import lint_paths

    (tmp_path / ".amlforge.toml").write_text("")
    conda_file = write_env(tmp_path / "conda.yaml", channel, ["python=3.11", "numpy<2"])
    (tmp_path / "deployment.yml").write_text(
        "name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\ninstance_type: Standard_D4as_v4\n"
        "instance_count: 3\nenvironment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1\n"
        "  conda_file: conda.yaml\n")
    assert run_cli(conda_file, "--solver", "embedded").returncode == 0
    report = lint_paths([tmp_path / "deployment.yml"], root=tmp_path, select=["AML418"])
    assert report.findings == []
    conda_file.write_text(conda_file.read_text() + "  - scipy\n")
    report = lint_paths([tmp_path / "deployment.yml"], root=tmp_path, select=["AML418"])
    [finding] = report.findings
    assert (finding.location.file.endswith("conda.yaml"), finding.location.line) == (True, 7)
    assert "stale" in finding.message and "amlforge lock" in finding.hint


def test_lock_takes_deployment_yaml_and_folders(channel: str, tmp_path: Path) -> None:
    """`amlforge lock DEPLOYMENT.yml` / `amlforge lock DIR` lock the conda files the environments name."""
    (tmp_path / "env").mkdir()
    conda_file = write_env(tmp_path / "env" / "conda.yaml", channel, ["python=3.11"])
    (tmp_path / "deployment.yml").write_text(
        "name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\ninstance_type: Standard_D4as_v4\n"
        "instance_count: 3\nenvironment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1\n"
        "  conda_file: env/conda.yaml\n")
    proc = run_cli("--check", tmp_path)
    assert proc.returncode == 1 and "env/conda.yaml: missing" in proc.stdout.replace(str(tmp_path) + "/", "")
    assert run_cli("deployment.yml", "--solver", "embedded", cwd=tmp_path).returncode == 0
    assert lock_paths(conda_file).pinned_file.exists()
    assert run_cli("--check", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "other.yml").write_text("name: x\nauth_mode: key\n")
    proc = run_cli("other.yml", cwd=tmp_path)
    assert proc.returncode == 2 and "names a local conda file" in proc.stderr


def test_lock_of_a_folder_leaves_out_what_the_configuration_excludes(channel: str, tmp_path: Path) -> None:
    """Issue 14: `amlforge lock DIR` walks DIR as `amlforge lint DIR` does, with `exclude`."""
    deployment = ("name: blue\nendpoint_name: e\nmodel: azureml:m:1\ninstance_type: Standard_D4as_v4\n"
                  "instance_count: 3\nenvironment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1\n"
                  "  conda_file: conda.yaml\n")
    for name in ("current", "legacy"):
        (tmp_path / name).mkdir()
        write_env(tmp_path / name / "conda.yaml", channel, ["python=3.11"])
        (tmp_path / name / "deployment.yml").write_text(deployment)
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy"]\n')
    proc = run_cli("--check", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "current/conda.yaml: missing" in proc.stdout and "legacy" not in proc.stdout
    (tmp_path / ".amlforge.toml").write_text("")
    assert "legacy/conda.yaml: missing" in run_cli("--check", ".", cwd=tmp_path).stdout
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy", "current"]\n')
    proc = run_cli("--check", ".", cwd=tmp_path)
    assert proc.returncode == 2 and "names a local conda file" in proc.stderr, proc.stdout + proc.stderr
