"""Choosing the conda solver executable conda-lock runs (real one or embedded shim)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Literal

from msgspec import Struct

from amlforge.integrations.condalock._common import SHIM_NAME, atomic_write
from amlforge.integrations.condalock.errors import SolverNotFoundError

__all__ = ["SolverInfo", "resolve_solver"]


class SolverInfo(Struct, frozen=True):
    """The conda solver executable conda-lock will run.

    Attributes:
        path: Absolute path of the executable.
        kind: ``"embedded"``, ``"micromamba"``, ``"mamba"`` or ``"conda"``.
    """

    path: Path
    kind: Literal["embedded", "micromamba", "mamba", "conda"]

    def describe(self) -> str:
        """Short human description."""
        if self.kind == "embedded":
            return f"{SHIM_NAME} (embedded py-rattler solver)"
        return f"{self.kind} ({self.path})"


def _kind_of(path: Path) -> Literal["micromamba", "mamba", "conda"]:
    name = path.name.lower().removesuffix(".exe")
    if name.endswith("micromamba"):
        return "micromamba"
    if name.endswith("mamba"):
        return "mamba"
    return "conda"


def _embedded_solver() -> Path:
    """Path of the shim: the console script, or a wrapper generated in the user cache."""
    script = Path(sys.executable).parent / SHIM_NAME
    if os.access(script, os.X_OK):
        return script
    found = shutil.which(SHIM_NAME)
    if found:
        return Path(found)
    # Not installed as a console script (e.g. running from a source tree): generate a
    # wrapper. Its name must end in "micromamba" for conda-lock.
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "amlforge" / "bin"
    cache.mkdir(parents=True, exist_ok=True)
    wrapper = cache / SHIM_NAME
    package_root = Path(__file__).resolve().parents[3]
    text = (
        "#!/bin/sh\n"
        f"PYTHONPATH={json.dumps(str(package_root))}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        "export PYTHONPATH\n"
        f"exec {json.dumps(sys.executable)} -m amlforge.integrations.rattler_micromamba \"$@\"\n"
    )
    if not wrapper.exists() or wrapper.read_text() != text:
        atomic_write(wrapper, text)
        wrapper.chmod(0o755)
    return wrapper


def resolve_solver(solver: str | os.PathLike[str] = "auto") -> SolverInfo:
    """Choose the conda solver executable.

    Args:
        solver: ``"auto"`` (a ``micromamba``, ``mamba`` or ``conda`` from PATH or
            ``$MAMBA_EXE``/``$CONDA_EXE``, else the embedded solver), ``"embedded"``
            (always the py-rattler shim), or a path or command name of a conda-compatible
            executable.

    Returns:
        The executable to pass to conda-lock.

    Raises:
        SolverNotFoundError: An explicit solver does not exist or is not executable.
    """
    choice = os.fspath(solver)
    if choice == "embedded":
        return SolverInfo(_embedded_solver(), "embedded")
    if choice == "auto":
        for name in ("micromamba", "mamba", "conda"):
            found = shutil.which(name)
            if found:
                return SolverInfo(Path(found), _kind_of(Path(found)))
        for var in ("MAMBA_EXE", "CONDA_EXE"):
            value = os.environ.get(var)
            if value and os.access(value, os.X_OK):
                return SolverInfo(Path(value), _kind_of(Path(value)))
        return SolverInfo(_embedded_solver(), "embedded")
    path = Path(choice).expanduser()
    if not path.is_absolute() and os.sep not in choice:
        found = shutil.which(choice)
        path = Path(found) if found else path
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SolverNotFoundError(
            f"solver {choice!r} not found or not executable",
            hint="pass auto, embedded, or the path of a conda, mamba or micromamba executable",
        )
    # Not resolved: conda-lock picks its dialect from the executable's *name*, and a
    # symlink named mamba or micromamba must keep that name.
    path = path.absolute()
    if path.name == SHIM_NAME:
        return SolverInfo(path, "embedded")
    return SolverInfo(path, _kind_of(path))
