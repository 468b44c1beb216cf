"""Lock keys, lock file paths, reading ``conda-lock.yml``, the pinned file, staleness."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import yaml
from msgspec import Struct

from amlforge import __version__
from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.specs.files import read_user_bytes

#: Largest lock or pinned file read (a conda-lock file of a large environment is a few MB).
MAX_LOCK_BYTES = 64 * 1024 * 1024
from amlforge.integrations.condalock._common import (
    DEFAULT_PLATFORMS,
    INPUTS_PREFIX,
    KEY_PREFIX,
    KNOWN_PLATFORMS,
    LOCKFILE_SHA_PREFIX,
    YAML_LOADER,
)
from amlforge.integrations.condalock.condafile import (
    SELECTOR_COMMENT,
    CondaFile,
    Requirement,
    canonical_pip_name,
    pip_requirement_name,
    read_conda_file,
)
from amlforge.integrations.condalock.errors import LockError

__all__ = [
    "LockPaths",
    "LockStatus",
    "LockedPackage",
    "check_lock",
    "compute_lock_inputs",
    "conda_lock_version",
    "lock_paths",
    "read_lockfile",
    "render_pinned",
    "verify_lock",
]


class LockPaths(Struct, frozen=True):
    """Where the lock of one conda file lives.

    Attributes:
        conda_file: The conda file (absolute).
        lockfile: conda-lock's ``conda-lock.yml`` (or ``<stem>.conda-lock.yml``).
        pinned_file: The pinned conda file (``<stem>.lock.yaml``).
    """

    conda_file: Path
    lockfile: Path
    pinned_file: Path


def lock_paths(conda_file: Path) -> LockPaths:
    """Compute the output paths for a conda file.

    ``conda.yaml`` gives ``conda-lock.yml`` and ``conda.lock.yaml``; any other stem, e.g.
    ``environment.yml``, gives ``environment.conda-lock.yml`` and ``environment.lock.yaml``
    so that several environments can share a directory.

    Args:
        conda_file: Path to the conda file.

    Returns:
        The paths (absolute).
    """
    path = Path(conda_file).resolve()
    stem = path.stem
    lockfile = "conda-lock.yml" if stem == "conda" else f"{stem}.conda-lock.yml"
    return LockPaths(path, path.with_name(lockfile), path.with_name(f"{stem}.lock.yaml"))


def conda_lock_version() -> str:
    """Installed conda-lock version, read from package metadata (no import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("conda-lock")
    except PackageNotFoundError:  # an install without the 'lock' extra
        return _NOT_INSTALLED


#: :func:`conda_lock_version` without conda-lock (``pip install amlforge`` without ``[lock]``).
_NOT_INSTALLED = "not-installed"


def normalise_platforms(platforms: Iterable[str] | None) -> tuple[str, ...]:
    """Deduplicated platforms (default ``linux-64``); unknown ones are a UserInputError."""
    out = tuple(dict.fromkeys(p.strip() for p in (platforms or DEFAULT_PLATFORMS)))
    unknown = [p for p in out if p not in KNOWN_PLATFORMS]
    if unknown:
        raise UserInputError(
            f"unknown platform {unknown[0]!r}",
            hint=f"use one of: {', '.join(sorted(KNOWN_PLATFORMS))}",
        )
    if not out:
        raise UserInputError("no platform to lock for")
    return out


def _content_digest(env: CondaFile) -> str:
    """Hash of the conda file's meaning: its data, plus conda-lock's platform selectors.

    Formatting, key order and ordinary comments do not change it; selector comments
    (``- pywin32  # [win]``) do, because conda-lock honours them.
    """
    canonical = json.dumps(env.data, sort_keys=True, separators=(",", ":"), default=str)
    selectors = [ln.strip() for ln in env.text.splitlines() if SELECTOR_COMMENT.search(ln)]
    blob = canonical + "\n" + "\n".join(selectors)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def compute_lock_inputs(
    env: CondaFile,
    platforms: Sequence[str],
    channel_overrides: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The inputs a lock depends on; their hash is the lock key.

    Args:
        env: The parsed conda file.
        platforms: Platforms to lock.
        channel_overrides: Channels replacing the file's, if any.

    Returns:
        A JSON-serialisable mapping.
    """
    return {
        "conda_file": _content_digest(env),
        "channels": list(channel_overrides) if channel_overrides else list(env.channels),
        "platforms": sorted(platforms),
        "amlforge": __version__,
        "conda-lock": conda_lock_version(),
    }


def _key(inputs: Mapping[str, Any]) -> str:
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


class LockedPackage(Struct, frozen=True):
    """One package of a lock.

    Attributes:
        name: Package name.
        version: Exact version.
        manager: ``"conda"`` or ``"pip"``.
        platform: Platform it was locked for.
        url: Download URL.
        build: Conda build string ("" for pip).
        sha256: SHA-256 of the artifact ("" if the lock has none).
        md5: MD5 of a conda artifact ("" for pip).
        source_url: For pip packages from a direct URL, that URL.
    """

    name: str
    version: str
    manager: Literal["conda", "pip"]
    platform: str
    url: str
    build: str = ""
    sha256: str = ""
    md5: str = ""
    source_url: str = ""

    @property
    def pin(self) -> str:
        """The exact requirement: ``name=version=build`` (conda), ``name==version`` (pip)."""
        if self.manager == "conda":
            return f"{self.name}={self.version}={self.build}"
        if self.source_url:
            return f"{self.name} @ {self.source_url}"
        return f"{self.name}=={self.version}"

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"name": self.name, "version": self.version, "build": self.build,
                "manager": self.manager, "platform": self.platform, "url": self.url,
                "sha256": self.sha256, "md5": self.md5, "pin": self.pin}


def _build_from_url(url: str) -> str:
    name = unquote(urlparse(url).path).rsplit("/", 1)[-1]
    for ext in (".tar.bz2", ".conda"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return name.rsplit("-", 1)[-1]


def parse_lock_data(data: Any, source: str) -> tuple[dict[str, Any], tuple[LockedPackage, ...]]:
    """``(metadata, packages)`` of a parsed ``conda-lock.yml``; LockError if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("package"), list):
        raise LockError(f"{source} is not a conda-lock lock file (no 'package' list)")
    packages = []
    for p in data["package"]:
        manager = p.get("manager")
        if manager not in ("conda", "pip"):
            continue
        url = str(p.get("url") or "")
        hashes = p.get("hash") or {}
        source_info = p.get("source") or {}
        packages.append(LockedPackage(
            name=str(p["name"]),
            version=str(p["version"]),
            manager=manager,
            platform=str(p.get("platform", "")),
            url=url,
            build=_build_from_url(url) if manager == "conda" else "",
            sha256=str(hashes.get("sha256") or ""),
            md5=str(hashes.get("md5") or ""),
            source_url=str(source_info.get("url") or "")
            if source_info.get("type") == "url" else "",
        ))
    return data.get("metadata") or {}, tuple(packages)


def read_lockfile(lockfile: Path) -> tuple[LockedPackage, ...]:
    """Read the packages of a ``conda-lock.yml``.

    Args:
        lockfile: Path to the lock file.

    Returns:
        All packages of all platforms, in file order.

    Raises:
        LockError: The file is not a conda-lock lock file.
    """
    try:
        data = yaml.load(read_user_bytes(lockfile, str(lockfile), MAX_LOCK_BYTES, what="lock files"), Loader=YAML_LOADER)
    except (UserInputError, yaml.YAMLError, RecursionError) as exc:
        raise LockError(f"cannot read {lockfile}: {exc}") from None
    return parse_lock_data(data, str(lockfile))[1]


_PLAIN = LazyPattern(r"^[A-Za-z0-9_][A-Za-z0-9_.\-=<>!*,+~/@:\[\] ]*\Z")


def _yaml_scalar(value: str) -> str:
    if _PLAIN.match(value) and ": " not in value and " #" not in value \
            and not value.endswith((":", " ")) \
            and value.lower() not in ("yes", "no", "true", "false", "null", "on", "off", "~"):
        return value
    return json.dumps(value)


def render_pinned(
    env: CondaFile,
    packages: Sequence[LockedPackage],
    *,
    platform: str,
    channels: Sequence[str],
    key: str,
    inputs: Mapping[str, Any],
    lockfile_name: str,
    lockfile_sha256: str,
) -> str:
    """Render the pinned conda file.

    Args:
        env: The source conda file.
        packages: Locked packages (all platforms; only ``platform``'s are written).
        platform: The platform the pinned file is for.
        channels: Channels to write.
        key: The lock key.
        inputs: The inputs the key hashes (recorded for staleness reasons).
        lockfile_name: File name of the conda-lock lock, for the header.
        lockfile_sha256: Hex SHA-256 of the lock file's bytes.

    Returns:
        The file content.
    """
    conda = sorted((p for p in packages if p.platform == platform and p.manager == "conda"
                    and not p.name.startswith("__")), key=lambda p: p.name)
    pip = sorted((p for p in packages if p.platform == platform and p.manager == "pip"),
                 key=lambda p: p.name)
    lines = [
        f"# Pinned by `amlforge lock` from {env.path.name} for {platform}. Do not edit:",
        f"# change {env.path.name} and run `amlforge lock` again. Hashes and other",
        f"# platforms are in {lockfile_name}.",
        f"{KEY_PREFIX}{key}",
        f"{INPUTS_PREFIX}{json.dumps(inputs, sort_keys=True, separators=(',', ':'))}",
        f"{LOCKFILE_SHA_PREFIX}{lockfile_sha256}",
    ]
    if env.name is not None:
        lines.append(f"name: {_yaml_scalar(env.name)}")
    lines.append("channels:")
    lines += [f"  - {_yaml_scalar(c)}" for c in channels]
    lines.append("dependencies:")
    lines += [f"  - {_yaml_scalar(p.pin)}" for p in conda]
    if pip:
        lines.append("  - pip:")
        lines += [f"      - {_yaml_scalar(p.pin)}" for p in pip]
    return "\n".join(lines) + "\n"


def _read_header(pinned_file: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    try:
        text = read_user_bytes(pinned_file, str(pinned_file), MAX_LOCK_BYTES).decode("utf-8", "replace")
    except UserInputError:
        return header
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        for name, prefix in (("key", KEY_PREFIX), ("inputs", INPUTS_PREFIX), ("lockfile_sha256", LOCKFILE_SHA_PREFIX)):
            if line.startswith(prefix):
                header[name] = line[len(prefix):].strip()
    return header


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(read_user_bytes(path, str(path), MAX_LOCK_BYTES, what="lock files")).hexdigest()


class LockStatus(Struct, frozen=True):
    """Whether the lock of a conda file is up to date.

    Attributes:
        state: ``"fresh"``, ``"missing"`` or ``"stale"``.
        reason: Why (empty when fresh).
        paths: The conda file and its lock files.
        key: The key the lock should have.
        location: The conda file and, when known, the line that made the lock stale
            (for lint findings).
    """

    state: Literal["fresh", "missing", "stale"]
    reason: str
    paths: LockPaths
    key: str
    location: Location

    @property
    def fresh(self) -> bool:
        """True when the lock is up to date."""
        return self.state == "fresh"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"state": self.state, "reason": self.reason, "key": self.key,
                "line": self.location.line or None}


def _describe_change(env: CondaFile, recorded: Mapping[str, Any],
                     expected: Mapping[str, Any],
                     pinned_file: Path) -> tuple[str, Requirement | None]:
    name = env.path.name
    if recorded.get("conda_file") != expected["conda_file"]:
        locked = _pinned_names(pinned_file)
        for req in env.requirements:
            if locked is not None and req.name not in locked:
                return (f"{name} changed since it was locked: {req.spec!r} "
                        f"({req.where}) is not in the lock", req)
        return f"{name} changed since it was locked", None
    for key in ("platforms", "channels"):
        if recorded.get(key) != expected[key]:
            return (f"{key} changed: locked for {', '.join(recorded.get(key) or [])}, "
                    f"now {', '.join(expected[key])}"), None
    for tool in ("amlforge", "conda-lock"):
        if recorded.get(tool) != expected[tool]:
            return f"locked with {tool} {recorded.get(tool)}, now {expected[tool]}", None
    return "the lock key does not match its inputs", None


def _pinned_names(pinned_file: Path) -> set[str] | None:
    try:
        data = yaml.load(read_user_bytes(pinned_file, str(pinned_file), MAX_LOCK_BYTES), Loader=YAML_LOADER)
        names: set[str] = set()
        for dep in data.get("dependencies") or []:
            if isinstance(dep, str):
                names.add(dep.split("=", 1)[0].strip().lower())
            elif isinstance(dep, dict):
                names.update(pip_requirement_name(p) for p in dep.get("pip") or [])
        return names
    except Exception:  # noqa: BLE001 - a damaged pinned file only loses the detail
        return None


def lock_status(env: CondaFile, paths: LockPaths, inputs: Mapping[str, Any]) -> LockStatus:
    """Status of the lock at ``paths`` against the expected ``inputs`` (no conda-lock run)."""
    key = _key(inputs)
    loc = env.location()

    def status(state: Literal["fresh", "missing", "stale"], reason: str = "",
               req: Requirement | None = None) -> LockStatus:
        return LockStatus(state, reason, paths, key, env.requirement_location(req) if req else loc)

    if not paths.pinned_file.exists():
        return status("missing", f"{paths.pinned_file.name} does not exist")
    if not paths.lockfile.exists():
        return status("missing", f"{paths.lockfile.name} does not exist")
    header = _read_header(paths.pinned_file)
    if "key" not in header:
        return status("stale", f"{paths.pinned_file.name} has no amlforge lock key")
    if header["key"] != key and inputs.get("conda-lock") == _NOT_INSTALLED:
        # a lean install (no 'lock' extra) cannot tell whether another conda-lock would lock
        # differently: judge the lock by everything else, with the version it was made with
        try:
            made_with = json.loads(header.get("inputs", "{}")).get("conda-lock")
        except (json.JSONDecodeError, AttributeError):
            made_with = None
        if made_with:
            inputs = {**inputs, "conda-lock": made_with}
            key = _key(inputs)
    if header["key"] != key:
        try:
            recorded = json.loads(header.get("inputs", "{}"))
        except json.JSONDecodeError:
            recorded = {}
        reason, req = _describe_change(env, recorded, inputs, paths.pinned_file)
        return status("stale", reason, req)
    try:
        digest = sha256_file(paths.lockfile)
    except UserInputError as e:
        return status("stale", f"{paths.lockfile.name} cannot be read ({e.message})")
    if header.get("lockfile_sha256") != digest:
        return status("stale", f"{paths.lockfile.name} was changed after it was locked")
    return status("fresh")


def check_lock(
    conda_file: Path,
    platforms: Iterable[str] = DEFAULT_PLATFORMS,
    *,
    channel_overrides: Sequence[str] | None = None,
) -> LockStatus:
    """Tell whether a conda file's lock is fresh, missing or stale. Never runs conda-lock.

    Args:
        conda_file: The conda file.
        platforms: Platforms the lock must cover (as given to :func:`lock_conda_file`).
        channel_overrides: Channel overrides the lock was made with, if any.

    Returns:
        The status, with a reason and the conda file location for lint.

    Raises:
        CondaFileError: The conda file is missing or malformed.
        UserInputError: An unknown platform.
    """
    env = read_conda_file(conda_file)
    plats = normalise_platforms(platforms)
    inputs = compute_lock_inputs(env, plats, channel_overrides)
    return lock_status(env, lock_paths(conda_file), inputs)


def verify_lock(env: CondaFile, packages: Sequence[LockedPackage]) -> None:
    """Check that the locked versions satisfy every requirement of the conda file.

    A defence against conda-lock silently dropping a constraint (as it does for ``pip``
    in conda/conda-lock#919): a lock that does not honour its conda file is never
    written. Requirements whose package is absent on a platform (platform selectors), or
    that cannot be parsed here, are skipped.

    Args:
        env: The conda file.
        packages: The locked packages (all platforms).

    Raises:
        LockError: A locked version does not satisfy a requirement.
    """
    import rattler
    from packaging.requirements import Requirement as PipRequirement

    by_key: dict[tuple[str, str], list[LockedPackage]] = {}
    for p in packages:
        name = p.name if p.manager == "conda" else canonical_pip_name(p.name)
        by_key.setdefault((p.manager, name), []).append(p)
    for req in env.requirements:
        if "build_number" in req.spec or "://" in req.spec:
            continue  # not checkable from name, version and build alone
        for locked in by_key.get((req.manager, req.name), []):
            try:
                if req.manager == "conda":
                    record = rattler.PackageRecord(
                        locked.name, rattler.VersionWithSource(locked.version),
                        rattler.BuildString(locked.build), 0, locked.platform)
                    ok = rattler.MatchSpec(req.spec).matches(record)
                else:
                    specifier = PipRequirement(req.spec).specifier
                    ok = specifier.contains(locked.version, prereleases=True)
            except Exception:  # noqa: BLE001 - unparsable here but accepted by conda-lock
                continue
            if not ok:
                raise LockError(
                    f"conda-lock's result does not satisfy {req.spec!r}: it locked "
                    f"{locked.pin} for {locked.platform}; no lock was written",
                    env.requirement_location(req),
                    "report this with the conda file; meanwhile pin the package exactly",
                )
