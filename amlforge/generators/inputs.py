"""What the pure generators need besides the spec, read from disk in one place.

:func:`read_inputs` is the only generator code that reads files: the conda files (or their
pinned locks from ``amlforge lock``) whose text goes into ARM environment versions and
Docker build contexts, and where the output folder sits relative to the spec. Everything
downstream is a pure function of :class:`Inputs`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.specs.files import is_regular_file, path_problem, read_user_text
from amlforge.specs.project_spec import LoadedSpec, ProjectSpec

#: Folders of the output, one per target.
YAML_DIR, ARM_DIR, BICEP_DIR, DOCKER_DIR = "azureml", "arm", "bicep", "docker"


class CondaSource(Struct, frozen=True):
    """The conda file an environment is built from.

    Attributes:
        path: The file used, relative to the spec folder (the pinned lock when fresh).
        text: Its content.
        locked: Whether it is the pinned lock written by ``amlforge lock``.
    """

    path: str
    text: str
    locked: bool = False


class Inputs(Struct, frozen=True):
    """Everything a generator renders from.

    Attributes:
        spec: The project spec.
        spec_name: The spec's file name (named in file headers).
        to_spec: POSIX path from the output folder to the spec's folder (``..`` when the
            output folder is a child of it). Paths in generated files are rebased with it.
        conda: Environment name -> the conda file it is built from.
        notes: Things worth telling the user (a stale lock, ...); not part of any file.
    """

    spec: ProjectSpec
    spec_name: str = "amlforge.yaml"
    to_spec: str = ".."
    conda: Mapping[str, CondaSource] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def rebase(self, path: str, depth: int) -> str:
        """A spec-relative path as seen from a folder ``depth`` levels below the output folder."""
        return posixpath.normpath(posixpath.join(*([".."] * depth), self.to_spec, path))


def relative_posix(target: Path, start: Path) -> str:
    """``os.path.relpath`` with ``/`` separators."""
    return Path(os.path.relpath(target, start)).as_posix()


def read_inputs(loaded: LoadedSpec, out_dir: Path) -> Inputs:
    """Collect the file-system facts the generators need.

    Raises:
        UserInputError: a conda file named by the spec is missing or unreadable, or a local
            path resolves outside the project (located at its line in the spec).
    """
    from amlforge.specs.loader import find_root

    spec = loaded.spec
    folder = loaded.folder
    root = Path(os.path.realpath(find_root([folder])))
    conda: dict[str, CondaSource] = {}
    notes: list[str] = []
    for name, env in sorted(spec.environments.items()):
        if env.conda_file is None:
            continue
        where = loaded.source.locate(("environments", name, "conda_file"))
        path = folder / env.conda_file
        _check_inside(path, root, where, "conda file")
        if not is_regular_file(path):
            raise UserInputError(f"conda file '{env.conda_file}' does not exist", where,
                                 "create it (amlforge init writes a pinned example), or fix the path")
        used, locked, note = _pinned_or_original(path)
        if note:
            notes.append(f"{where}: {note}")
        try:
            text = read_user_text(used, str(used))
        except UserInputError as e:
            raise UserInputError(f"cannot read conda file '{used.name}': {e.message}", where, e.hint) from None
        conda[name] = CondaSource(relative_posix(used, folder), text, locked)
    for kind, table in (("models", spec.models), ("code", spec.code)):
        for name, asset in sorted(table.items()):
            if asset.path is not None and "://" not in asset.path:
                _check_inside(folder / asset.path, root, loaded.source.locate((kind, name, "path")), "path")
    for name, env in sorted(spec.environments.items()):
        if env.build is not None:
            _check_inside(folder / env.build.path, root, loaded.source.locate(("environments", name, "build")),
                          "build context")
    to_spec = relative_posix(folder, Path(os.path.abspath(out_dir)))
    return Inputs(spec, loaded.path.name, to_spec, conda, tuple(notes))


def _check_inside(path: Path, root: Path, where: Location, what: str) -> None:
    problem = path_problem(path)
    if problem is not None:
        raise UserInputError(f"the {what}: {problem}", where, "shorten the path: a file name may have at most 255 bytes")
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        raise UserInputError(f"the {what} resolves outside the project ({root})", where,
                             "move it into the project folder, so that every machine that deploys it has it")


def _pinned_or_original(conda_file: Path) -> tuple[Path, bool, str]:
    """The pinned lock of a conda file when ``amlforge lock`` wrote a fresh one, else the file."""
    try:
        from amlforge.integrations.condalock import check_lock, lock_paths
    except ImportError:  # pragma: no cover - the lock integration is part of the package
        return conda_file, False, ""
    pinned = lock_paths(conda_file).pinned_file
    if not os.path.isfile(pinned):
        return conda_file, False, ""
    try:
        from amlforge.policies.settings import project_channels

        status = check_lock(conda_file, channel_overrides=project_channels(conda_file) or None)
    except Exception as e:  # noqa: BLE001 - a malformed conda file is linted later; build from it as is
        return conda_file, False, f"not using {pinned.name}: {e}"
    if status.fresh:
        return pinned, True, ""
    import shlex

    return conda_file, False, (f"{pinned.name} is stale ({status.reason}); building from {conda_file.name} "
                               f"instead: run {shlex.join(['amlforge', 'lock', os.path.relpath(conda_file)])} "
                               "to pin it again")


__all__ = ["ARM_DIR", "BICEP_DIR", "CondaSource", "DOCKER_DIR", "Inputs", "YAML_DIR", "read_inputs", "relative_posix"]
