"""Fixes of AML401/AML402: pin a dependency to the version its conda file's lock records.

``amlforge lock`` writes ``conda-lock.yml`` next to a conda file (``<stem>.conda-lock.yml``
for other names). When an unpinned dependency has exactly one version in that lock for
``linux-64`` (the platform Azure ML builds for), that version is the one the environment was
solved with, and writing it into the conda file is a safe fix.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from amlforge._regex import LazyPattern
from amlforge.specs.edits import Applicability, Edit, Fix, render_scalar

if TYPE_CHECKING:
    from amlforge.specs.conda import Dependency
    from amlforge.specs.environment import EnvironmentSpec
    from amlforge.specs.project import Loaded, Project

_PLATFORM = "linux-64"
_CONDA_NAME = LazyPattern(r"^\s*(?P<channel>[A-Za-z0-9_./:-]+::)?(?P<name>[A-Za-z0-9_.\-]+)")


def locked_versions(project: Project, env: Loaded[EnvironmentSpec]) -> dict[tuple[str, str], str] | None:
    """``(manager, normalised name) -> version`` of the lock next to ``env``'s conda file, or None."""
    from amlforge.specs.project import is_local_path

    value = env.spec.conda_file
    if not isinstance(value, str) or not is_local_path(value):
        return None
    resolved = project.local_path(env, value)
    if not resolved.exists or resolved.is_dir:
        return None
    return project.memo(("locked-versions", resolved.path), lambda: _read(resolved.path))


def _read(conda_file) -> dict[tuple[str, str], str] | None:  # noqa: ANN001 - a Path
    from amlforge.integrations.condalock.errors import LockError
    from amlforge.integrations.condalock.lockfiles import lock_paths, read_lockfile
    from amlforge.specs.conda import normalise

    lockfile = lock_paths(conda_file).lockfile
    if not lockfile.is_file():
        return None
    try:
        packages = read_lockfile(lockfile)
    except (LockError, KeyError, TypeError, ValueError):
        return None  # not a lock amlforge can read: no fix
    platforms = {p.platform for p in packages}
    platform = _PLATFORM if _PLATFORM in platforms else (next(iter(platforms)) if len(platforms) == 1 else None)
    found: dict[tuple[str, str], set[str]] = {}
    for p in packages:
        if p.platform == platform and not p.source_url:
            found.setdefault((p.manager, normalise(p.name)), set()).add(p.version)
    return {key: next(iter(v)) for key, v in found.items() if len(v) == 1}


def pin_fix(dep: Dependency, locked: dict[tuple[str, str], str] | None) -> Fix | None:
    """The fix that pins ``dep`` to its locked version, when the lock has one that its
    constraint allows and the source map can edit its text."""
    if locked is None or dep.end is None:
        return None
    version = locked.get((dep.source, dep.name))
    if version is None:
        return None
    new = _conda_pin(dep, version) if dep.source == "conda" else _pip_pin(dep, version)
    if new is None:
        return None
    loc = dep.location
    like = dep.quote or ""
    text = render_scalar(new, like)
    return Fix(f"Pin {new} (the version in the lock)",
               (Edit(loc.file, loc.line, loc.column, dep.end[0], dep.end[1], text),), Applicability.SAFE)


def _conda_pin(dep: Dependency, version: str) -> str | None:
    m = _CONDA_NAME.match(dep.raw)
    if m is None or not _conda_allows(dep.spec, version):
        return None
    exact = f"={version}" if version.count(".") >= 2 else f"=={version}"
    return f"{m.group('channel') or ''}{m.group('name')}{exact}"


def _pip_pin(dep: Dependency, version: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        req = Requirement(dep.raw)
    except InvalidRequirement:
        return None
    if req.url:
        return None
    try:
        if req.specifier and not SpecifierSet(str(req.specifier)).contains(version, prereleases=True):
            return None
    except InvalidSpecifier:
        return None
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f"; {req.marker}" if req.marker else ""
    return f"{req.name}{extras}=={version}{marker}"


def _conda_allows(spec: str, version: str) -> bool:
    """Whether a conda version constraint (as written after the name) allows ``version``.

    Handles what conda files use: nothing, ``=1.2`` / ``1.2.*`` (a version prefix), and
    comparisons joined by ``,``. Anything else (builds, ``|``) is taken as not allowing it,
    so that no fix is offered.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    spec = spec.strip()
    if not spec:
        return True
    if "|" in spec or " " in spec:
        return False
    prefix = None
    if spec.startswith("=") and not spec.startswith("=="):
        prefix = spec[1:]
    elif re.fullmatch(r"[0-9][A-Za-z0-9_.+!]*(\.\*)?", spec):
        prefix = spec
    if prefix is not None:
        prefix = prefix[:-2] if prefix.endswith(".*") else prefix
        return version == prefix or version.startswith(prefix + ".")
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False
