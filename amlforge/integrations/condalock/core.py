"""Locking: :func:`lock_conda_file` and :func:`lock_many`, with results and progress."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from msgspec import Struct
from msgspec.structs import replace

from amlforge.errors import AmlforgeError, Location, UserInputError
from amlforge.integrations.condalock._common import (
    DEFAULT_PLATFORMS,
    DEFAULT_TIMEOUT,
    MAPPING_FILE,
    POETRY_URL_VAR,
    YAML_LOADER,
    atomic_write,
    primary_platform,
    redact_url,
)
from amlforge.integrations.condalock.condafile import (
    CondaFile,
    canonical_pip_name,
    read_conda_file,
)
from amlforge.integrations.condalock.errors import LockError, UnsolvableEnvironmentError
from amlforge.integrations.condalock.lockfiles import (
    LockedPackage,
    LockPaths,
    LockStatus,
    compute_lock_inputs,
    lock_paths,
    lock_status,
    normalise_platforms,
    parse_lock_data,
    read_lockfile,
    render_pinned,
    verify_lock,
)
from amlforge.integrations.condalock.runner import (
    classify_failure,
    pip_index_url,
    preflight_channels,
    run_streaming,
)
from amlforge.integrations.condalock.solver import SolverInfo, resolve_solver

__all__ = ["LockProgress", "LockResult", "ProgressCallback", "lock_conda_file", "lock_many"]


class LockProgress(Struct, frozen=True):
    """A progress event for one environment.

    Attributes:
        conda_file: The environment being locked.
        stage: ``start``, ``cached``, ``solve``, ``pip``, ``wait``, ``done`` or ``failed``.
        message: Human-readable text.
        elapsed: Seconds since this environment started.
    """

    conda_file: Path
    stage: Literal["start", "cached", "solve", "pip", "wait", "done", "failed"]
    message: str
    elapsed: float


ProgressCallback = Callable[[LockProgress], None]


class LockResult(Struct, frozen=True):
    """What happened to one environment.

    Attributes:
        conda_file: The conda file (absolute).
        lockfile: Its ``conda-lock.yml``.
        pinned_file: Its pinned conda file.
        action: ``locked`` (conda-lock ran), ``cached`` (lock already fresh),
            ``checked`` (``check_only``), or ``failed`` (only from :func:`lock_many`).
        key: The lock key.
        platforms: Platforms locked.
        packages: Locked packages (empty for ``checked`` and ``failed``).
        status: Status before locking (always set except for ``failed`` before parsing).
        solver: The solver used, if conda-lock ran.
        seconds: Wall time.
        error: The error, for ``failed``.
    """

    conda_file: Path
    lockfile: Path
    pinned_file: Path
    action: Literal["locked", "cached", "checked", "failed"]
    key: str = ""
    platforms: tuple[str, ...] = ()
    packages: tuple[LockedPackage, ...] = ()
    status: LockStatus | None = None
    solver: SolverInfo | None = None
    seconds: float = 0.0
    error: AmlforgeError | None = None

    @property
    def ok(self) -> bool:
        """True unless the lock failed or (``checked``) is missing or stale."""
        if self.action == "failed":
            return False
        if self.action == "checked":
            return self.status is not None and self.status.fresh
        return True

    def count(self, manager: str, platform: str | None = None) -> int:
        """Number of packages of ``manager`` for ``platform`` (default: the primary one)."""
        plat = platform or (primary_platform(self.platforms) if self.platforms else "")
        return sum(1 for p in self.packages if p.manager == manager and p.platform == plat)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (used by ``amlforge lock --format json``)."""
        out: dict[str, Any] = {
            "conda_file": str(self.conda_file),
            "lockfile": str(self.lockfile),
            "pinned_file": str(self.pinned_file),
            "action": self.action,
            "ok": self.ok,
            "key": self.key,
            "platforms": list(self.platforms),
            "seconds": round(self.seconds, 3),
            "status": self.status.to_dict() if self.status else None,
            "solver": {"kind": self.solver.kind, "path": str(self.solver.path)}
            if self.solver else None,
            "packages": [p.to_dict() for p in self.packages],
        }
        if self.error is not None:
            err: dict[str, Any] = {"type": type(self.error).__name__,
                                   "message": getattr(self.error, "message", str(self.error))}
            loc = getattr(self.error, "location", None)
            if loc is not None:
                err["file"], err["line"] = loc.file, loc.line or None
            for attr in ("hint", "details"):
                if getattr(self.error, attr, ""):
                    err[attr] = getattr(self.error, attr)
            if isinstance(self.error, UnsolvableEnvironmentError):
                err["conflicts"] = [{"spec": r.spec, "line": r.line, "manager": r.manager}
                                    for r in self.error.conflicts]
                err["predicts"] = "ImageBuildFailure"
            out["error"] = err
        return out


def _pip_pin_overlay(env: CondaFile, paths: LockPaths) -> tuple[Path, str] | None:
    """A second input file restoring a constraint on conda's ``pip`` (conda-lock bug).

    When a conda file has a ``pip:`` section, conda-lock 4.0.3 appends an unconstrained
    ``pip`` requirement that replaces the file's own (``pip=24.2`` becomes ``pip *``;
    conda/conda-lock#919). conda-lock merges several ``--file`` inputs with "last one
    wins", so a small second file holding just the user's ``pip`` requirement restores
    it. Returns ``(path, content)``, or None when no workaround is needed.
    """
    if not env.pip_requirements:
        return None
    pins = [r for r in env.conda_requirements if r.name == "pip" and r.spec != "pip"]
    if not pins:
        return None
    lines = [f"# Written by amlforge lock for {env.path.name} and deleted after locking:",
             "# restores its pip requirement, which conda-lock 4.0 would otherwise drop.",
             "channels:"]
    lines += [f"  - {json.dumps(c)}" for c in env.channels] or ["  []"]
    lines += ["dependencies:"] + [f"  - {json.dumps(r.spec)}" for r in pins]
    return paths.conda_file.with_name(f".{paths.conda_file.stem}.amlforge-pip-pin.yml"), \
        "\n".join(lines) + "\n"


def _check_update(env: CondaFile, paths: LockPaths, update: Sequence[str]) -> None:
    if not paths.lockfile.exists():
        raise UserInputError(
            f"nothing to update: {paths.lockfile.name} does not exist",
            env.location(), "run `amlforge lock` without --update first")
    locked = read_lockfile(paths.lockfile)
    conda_locked = {p.name for p in locked if p.manager == "conda"}
    pip_locked = {canonical_pip_name(p.name) for p in locked if p.manager == "pip"}
    direct = {r.name for r in env.conda_requirements}
    for name in update:
        if name in conda_locked:
            if name not in direct:
                raise UserInputError(
                    f"cannot --update {name}: it is not a direct dependency in {env.path.name}",
                    env.location(), f"add {name} to 'dependencies' to update it, or re-lock")
        elif canonical_pip_name(name) not in pip_locked:
            raise UserInputError(f"cannot --update {name}: it is not in {paths.lockfile.name}",
                                 env.location())


def lock_conda_file(
    conda_file: Path,
    *,
    platforms: Iterable[str] = DEFAULT_PLATFORMS,
    solver: str | os.PathLike[str] = "auto",
    pypi_url: str | None = None,
    channel_overrides: Sequence[str] | None = None,
    check_only: bool = False,
    on_progress: ProgressCallback | None = None,
    update: Sequence[str] = (),
    force: bool = False,
    mapping_url: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> LockResult:
    """Lock one conda file with conda-lock, or serve its lock from disk when fresh.

    Writes ``conda-lock.yml`` and the pinned ``<stem>.lock.yaml`` next to the conda file,
    each atomically (temporary file, then rename). A failure leaves existing lock files
    untouched.

    Args:
        conda_file: The conda environment file.
        platforms: conda subdirs to lock (``linux-64`` by default). The pinned file is
            written for ``linux-64`` when it is among them, else for the first one.
        solver: ``"auto"``, ``"embedded"`` or a path to conda/mamba/micromamba; see
            :func:`resolve_solver`.
        pypi_url: PyPI simple index for the ``pip:`` section. Default: the value of
            ``$POETRY_REPOSITORIES_PYPISIMPLE_URL`` if set, else pip's configured index.
        channel_overrides: Channels used instead of the file's (e.g. a mirror).
        check_only: Only report the status (``action="checked"``); never lock.
        on_progress: Called with :class:`LockProgress` events.
        update: Package names to move to their newest allowed version while every other
            package keeps its locked version (needs an existing lock).
        force: Re-lock even when the lock is fresh.
        mapping_url: PyPI-to-conda name mapping (path or URL); default: the shipped file.
        timeout: Hard limit for conda-lock, in seconds (``None``: no limit).

    Returns:
        The result.

    Raises:
        CondaFileError: The conda file is missing or malformed.
        ChannelNotFoundError: A channel does not exist.
        SolverNotFoundError: An explicit solver is missing.
        UnsolvableEnvironmentError: The requirements conflict (predicts ImageBuildFailure).
        IndexUnreachableError: A channel or the PyPI index cannot be reached.
        LockError: Any other conda-lock failure.
        UserInputError: Bad arguments (unknown platform, bad ``update`` name).
    """
    start = time.monotonic()
    path = Path(conda_file)

    def emit(stage: Any, message: str) -> None:
        if on_progress is not None:
            on_progress(LockProgress(path, stage, message, time.monotonic() - start))

    env = read_conda_file(path)
    plats = normalise_platforms(platforms)
    paths = lock_paths(path)
    inputs = compute_lock_inputs(env, plats, channel_overrides)
    status = lock_status(env, paths, inputs)
    base = LockResult(conda_file=paths.conda_file, lockfile=paths.lockfile,
                      pinned_file=paths.pinned_file, action="checked", key=status.key,
                      platforms=plats, status=status)
    if check_only:
        return replace(base, seconds=time.monotonic() - start)
    if status.fresh and not force and not update:
        packages = read_lockfile(paths.lockfile)
        emit("cached", "lock is up to date (cached)")
        return replace(base, action="cached", packages=packages,
                       seconds=time.monotonic() - start)

    if update:
        _check_update(env, paths, update)
    channels = preflight_channels(env, channel_overrides)
    solver_info = resolve_solver(solver)
    index = pypi_url or os.environ.get(POETRY_URL_VAR) or pip_index_url()
    emit("start", f"locking for {', '.join(plats)} with {solver_info.describe()}"
         + (f" (reason: {status.reason})" if status.reason else ""))

    tmp_lock = paths.lockfile.with_name(
        f".{paths.lockfile.stem}.{os.getpid()}.{threading.get_ident()}.tmp.yml")
    overlay = _pip_pin_overlay(env, paths)
    try:
        if update:
            shutil.copyfile(paths.lockfile, tmp_lock)
        files = [paths.conda_file.name]
        if overlay is not None:
            atomic_write(overlay[0], overlay[1])
            files.append(overlay[0].name)
        cmd = [sys.executable, "-m", "conda_lock", "lock",
               "--conda", str(solver_info.path),
               *(arg for f in files for arg in ("--file", f)),
               "--lockfile", tmp_lock.name,
               "--kind", "lock",
               "--pypi_to_conda_lookup_file", mapping_url or str(MAPPING_FILE),
               "--log-level", "INFO"]
        for plat in plats:
            cmd += ["--platform", plat]
        for channel in channel_overrides or ():
            cmd += ["--channel", channel]
        for name in update:
            cmd += ["--update", name]
        child_env = dict(os.environ)
        child_env[POETRY_URL_VAR] = index
        child_env["PYTHONUNBUFFERED"] = "1"
        child_env.setdefault("PYTHONIOENCODING", "utf-8")
        has_pip = bool(env.pip_requirements)

        def on_line(line: str) -> None:
            m = re.search(r"INFO:conda_lock\.conda_solver:(\S+) using specs", line)
            if m:
                emit("solve", f"solving conda packages for {m.group(1)}")
                if has_pip:
                    emit("pip", f"resolving {len(env.pip_requirements)} pip requirement(s) "
                         f"against {redact_url(index)} (this can take tens of seconds)")
            elif line.startswith("Locking dependencies for"):
                pass
            elif line.startswith("WARNING") or line.startswith("Warning"):
                emit("wait", line.strip())

        def on_idle(elapsed: float) -> None:
            emit("wait", f"still locking ({elapsed:.0f} s)")

        code, lines = run_streaming(cmd, env=child_env, cwd=paths.conda_file.parent,
                                     timeout=timeout, on_line=on_line, on_idle=on_idle)
        if code is None:
            raise LockError(f"conda-lock did not finish within {timeout:.0f} s",
                            env.location(), "raise the timeout or check the network")
        if code != 0 or not tmp_lock.exists():
            raise classify_failure(env, lines, plats, index, channels)

        lock_bytes = tmp_lock.read_bytes()
        try:
            lock_data = yaml.load(lock_bytes, Loader=YAML_LOADER)
        except yaml.YAMLError as exc:
            raise LockError(f"conda-lock wrote an unreadable lock file: {exc}",
                            env.location()) from None
        _, packages = parse_lock_data(lock_data, paths.lockfile.name)
        primary = primary_platform(plats)
        if not any(p.platform == primary for p in packages):
            raise LockError(f"conda-lock wrote no packages for {primary}", env.location(),
                            details="\n".join(lines[-25:]))
        verify_lock(env, packages)
        pinned = render_pinned(
            env, packages, platform=primary,
            channels=channels,
            key=status.key, inputs=inputs, lockfile_name=paths.lockfile.name,
            lockfile_sha256=hashlib.sha256(lock_bytes).hexdigest(),
        )
        os.replace(tmp_lock, paths.lockfile)
        atomic_write(paths.pinned_file, pinned)
    except AmlforgeError as exc:
        emit("failed", str(exc).splitlines()[0])
        raise
    finally:
        tmp_lock.unlink(missing_ok=True)
        if overlay is not None:
            overlay[0].unlink(missing_ok=True)
    seconds = time.monotonic() - start
    n_conda = sum(1 for p in packages if p.platform == primary and p.manager == "conda")
    n_pip = sum(1 for p in packages if p.platform == primary and p.manager == "pip")
    emit("done", f"locked {n_conda} conda + {n_pip} pip packages in {seconds:.1f} s")
    return replace(base, action="locked", packages=packages, solver=solver_info,
                   seconds=seconds)


def lock_many(
    conda_files: Iterable[Path],
    *,
    keep_going: bool = True,
    **options: Any,
) -> list[LockResult]:
    """Lock several conda files, one after the other.

    Args:
        conda_files: The conda files. Duplicates (same resolved path) are locked once.
        keep_going: On an error, record it as a ``failed`` result and continue (default);
            when False, raise the first error.
        **options: Keyword arguments of :func:`lock_conda_file`.

    Returns:
        One result per distinct conda file, in order.

    Raises:
        UserInputError: Two different conda files would write the same lock files.
        AmlforgeError: The first error, when ``keep_going`` is False.
    """
    unique: dict[Path, Path] = {}
    for f in conda_files:
        unique.setdefault(Path(f).resolve(), Path(f))
    files = list(unique.values())
    owners: dict[Path, Path] = {}
    for f in files:
        for out in (lock_paths(f).lockfile, lock_paths(f).pinned_file):
            if out in owners:
                raise UserInputError(
                    f"{owners[out]} and {f} would both write {out.name}",
                    Location(str(f)), "rename one of them or lock them separately")
            owners[out] = f
    results: list[LockResult] = []
    for f in files:
        start = time.monotonic()
        try:
            results.append(lock_conda_file(f, **options))
        except AmlforgeError as exc:
            if not keep_going:
                raise
            paths = lock_paths(f)
            results.append(LockResult(
                conda_file=paths.conda_file, lockfile=paths.lockfile,
                pinned_file=paths.pinned_file, action="failed",
                platforms=tuple(options.get("platforms") or DEFAULT_PLATFORMS),
                seconds=time.monotonic() - start, error=exc))
    return results
