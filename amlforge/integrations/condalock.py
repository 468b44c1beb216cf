"""Environment locking with conda-lock: the one module that drives conda-lock.

For a conda file (``conda.yaml``), :func:`lock_conda_file` runs conda-lock and writes,
next to the conda file:

* ``conda-lock.yml`` (``<stem>.conda-lock.yml`` when the file is not called ``conda.*``):
  conda-lock's multi-platform lock, every conda and pip package with its URL and hashes;
* ``<stem>.lock.yaml`` (``conda.lock.yaml``): a conda environment file pinned exactly
  (``name=version=build`` for conda, ``name==version`` for pip) for the primary platform,
  with the environment's name and channels. The generated deployment YAML and Dockerfile
  build the image from this file, so nothing is resolved at deploy time.

A lock is keyed by a hash of its inputs (the conda file's content, normalised; the
channels; the platforms; the amlforge and conda-lock versions). The key is recorded in a
header comment of the pinned file, so an unchanged environment is served from disk in
milliseconds without starting conda-lock, and :func:`check_lock` tells ``fresh``,
``missing`` or ``stale`` (with the reason) for ``amlforge lock --check`` and for lint.

How conda-lock is run (see ``docs/locking.md``):

* as a subprocess, ``python -m conda_lock lock ...`` with the current interpreter:
  conda-lock has no stable Python API, mutates ``os.environ`` and logging, and the
  subprocess gives a hard timeout and streamed progress;
* with the conda solver chosen by ``solver``: a real ``micromamba``/``mamba``/``conda``
  from PATH, or the embedded py-rattler shim ``amlforge-rattler-micromamba``
  (:mod:`amlforge.integrations.rattler_micromamba`) when there is none;
* with ``POETRY_REPOSITORIES_PYPISIMPLE_URL`` set from pip's configured index (unless the
  user set it), because some PyPI mirrors serve the PEP 503 simple API but not the
  per-version JSON API that conda-lock's vendored poetry uses by default;
* with the PyPI-to-conda name mapping shipped in ``amlforge/data/pypi_to_conda.json``
  instead of conda-lock's download from raw.githubusercontent.com.

Nothing here imports conda-lock in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import yaml

from amlforge import __version__
from amlforge.errors import AmlforgeError, Location, UserInputError

__all__ = [
    "DEFAULT_PLATFORMS",
    "ChannelNotFoundError",
    "CondaFile",
    "CondaFileError",
    "IndexUnreachableError",
    "LockError",
    "LockPaths",
    "LockProgress",
    "LockResult",
    "LockStatus",
    "LockedPackage",
    "Requirement",
    "SolverInfo",
    "SolverNotFoundError",
    "UnsolvableEnvironmentError",
    "check_lock",
    "compute_lock_inputs",
    "conda_lock_version",
    "lock_conda_file",
    "lock_many",
    "lock_paths",
    "pip_index_url",
    "read_conda_file",
    "read_lockfile",
    "resolve_solver",
]

#: Platforms locked when none are given: Azure ML online deployments run linux-64 images.
DEFAULT_PLATFORMS: tuple[str, ...] = ("linux-64",)

#: conda subdirs conda-lock can lock for.
KNOWN_PLATFORMS = frozenset({
    "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l", "linux-32",
    "osx-64", "osx-arm64", "win-64", "win-32", "win-arm64",
})

#: Shipped PyPI -> conda name mapping (see ``amlforge/data/pypi_to_conda.md``).
MAPPING_FILE = Path(__file__).resolve().parent.parent / "data" / "pypi_to_conda.json"

#: Name of the embedded solver's console script. It must end in ``micromamba``.
SHIM_NAME = "amlforge-rattler-micromamba"

#: Default hard limit for one conda-lock run, in seconds.
DEFAULT_TIMEOUT = 1800.0

_KEY_PREFIX = "# amlforge-lock-key: "
_INPUTS_PREFIX = "# amlforge-lock-inputs: "
_LOCKFILE_SHA_PREFIX = "# amlforge-lockfile-sha256: "
_POETRY_URL_VAR = "POETRY_REPOSITORIES_PYPISIMPLE_URL"
_HEARTBEAT_SECONDS = 5.0

try:  # the C loader is 5-10x faster on lock files
    _YamlLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _YamlLoader = yaml.SafeLoader


# =========================================================================== errors


class LockError(AmlforgeError):
    """Locking failed (conda-lock or its solver reported an error). Exit code 2.

    Args:
        message: One-line cause.
        location: Where in the conda file, when known.
        hint: How to fix it.
        details: Longer solver output (multi-line), shown indented under the message.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        hint: str = "",
        details: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class UnsolvableEnvironmentError(LockError):
    """The environment's requirements cannot be satisfied together.

    The same environment would fail the Azure ML image build (ImageBuildFailure).

    Attributes:
        platform: Platform the solve failed for.
        conflicts: The conda file's requirements named in the solver's explanation.
        manager: ``"conda"`` or ``"pip"``: which half of the environment failed.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        conflicts: Sequence[Requirement] = (),
        manager: Literal["conda", "pip"] = "conda",
        location: Location | None = None,
        hint: str = "",
        details: str = "",
    ) -> None:
        super().__init__(message, location, hint, details)
        self.platform = platform
        self.conflicts = tuple(conflicts)
        self.manager = manager


class IndexUnreachableError(LockError):
    """A conda channel or the PyPI index could not be reached (network, DNS, refused)."""


class CondaFileError(UserInputError):
    """The conda file is malformed (bad YAML, no ``dependencies`` list, bad entries)."""


class ChannelNotFoundError(UserInputError):
    """A channel of the environment does not exist (no ``noarch/repodata.json``)."""


class SolverNotFoundError(UserInputError):
    """The requested conda solver executable does not exist or is not executable."""


# =========================================================================== conda file


@dataclass(frozen=True)
class Requirement:
    """One requirement of a conda file.

    Attributes:
        spec: The requirement as written (``numpy<2``, ``requests==2.32.3``).
        name: Package name (conda name, or canonical PyPI name for pip).
        manager: ``"conda"`` or ``"pip"``.
        line: 1-based line in the conda file (0 if unknown).
        column: 1-based column of the requirement text (0 if unknown).
    """

    spec: str
    name: str
    manager: Literal["conda", "pip"]
    line: int = 0
    column: int = 0

    @property
    def where(self) -> str:
        """``line N`` for messages."""
        return f"line {self.line}" if self.line else "unknown line"


@dataclass(frozen=True)
class CondaFile:
    """A parsed and checked conda environment file.

    Attributes:
        path: Absolute path.
        shown: The path as the user gave it (used in messages and locations).
        text: Raw content.
        data: Parsed YAML mapping.
        name: The ``name:`` value, if any.
        channels: ``channels:`` entries in order.
        channel_positions: 1-based ``(line, column)`` of each channel.
        requirements: Conda then pip requirements in file order.
    """

    path: Path
    shown: str
    text: str
    data: Mapping[str, Any]
    name: str | None
    channels: tuple[str, ...]
    channel_positions: tuple[tuple[int, int], ...]
    requirements: tuple[Requirement, ...]

    @property
    def conda_requirements(self) -> tuple[Requirement, ...]:
        """Requirements of the conda part."""
        return tuple(r for r in self.requirements if r.manager == "conda")

    @property
    def pip_requirements(self) -> tuple[Requirement, ...]:
        """Requirements of the ``pip:`` section."""
        return tuple(r for r in self.requirements if r.manager == "pip")

    def location(self, line: int = 0, column: int = 0) -> Location:
        """A :class:`Location` in this file."""
        return Location(self.shown, line, column)

    def requirement_location(self, req: Requirement | None) -> Location:
        """The location of a requirement (the file alone when ``req`` is None)."""
        return self.location(req.line, req.column) if req else self.location()

    def channel_location(self, channel: str) -> Location:
        """The location of a channel entry (the file alone if it is not in the file)."""
        for ch, (line, column) in zip(self.channels, self.channel_positions, strict=False):
            if ch == channel:
                return self.location(line, column)
        return self.location()


_CONDA_NAME = re.compile(r"^\s*(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_PIP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._\-]*)")
_SELECTOR = re.compile(r"#\s*\[[^\]]*\]")


def _canonical_pip(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _conda_name(spec: str) -> str:
    m = _CONDA_NAME.match(spec)
    return m.group(1).lower() if m else spec.strip().lower()


def _pip_name(spec: str) -> str:
    egg = _EGG.search(spec)
    if egg:
        return _canonical_pip(egg.group(1))
    m = _PIP_NAME.match(spec)
    return _canonical_pip(m.group(1)) if m else spec.strip().lower()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _column(node: yaml.Node) -> int:
    return node.start_mark.column + 1


def _mapping_get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def read_conda_file(conda_file: Path) -> CondaFile:
    """Read and check a conda environment file.

    Args:
        conda_file: Path to the file.

    Returns:
        The parsed file.

    Raises:
        CondaFileError: The file is missing, is not valid YAML, or does not have the
            structure of a conda environment file.
    """
    path = Path(conda_file).resolve()
    shown = str(conda_file)
    if path.name.endswith((".lock.yaml", ".lock.yml", "conda-lock.yml")):
        raise CondaFileError(
            f"{path.name} is a lock file written by amlforge lock",
            Location(shown), "pass the conda file it was generated from",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CondaFileError("conda file not found", Location(shown)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CondaFileError(f"cannot read conda file: {exc}", Location(shown)) from None
    try:
        root = yaml.compose(text, Loader=_YamlLoader)
        data = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        loc = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        raise CondaFileError(f"malformed conda file: {problem}", loc) from None

    def bad(message: str, node: yaml.Node | None = None, hint: str = "") -> CondaFileError:
        loc = Location(shown, _line(node), _column(node)) if node is not None else Location(shown)
        return CondaFileError(f"malformed conda file: {message}", loc, hint)

    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise bad("expected a mapping with 'name', 'channels' and 'dependencies'", root)
    name = data.get("name")
    if name is not None and not isinstance(name, str | int | float):
        raise bad("'name' must be a string", _mapping_get(root, "name"))

    channels_node = _mapping_get(root, "channels")
    raw_channels = data.get("channels") or []
    if not isinstance(raw_channels, list) or not all(isinstance(c, str) for c in raw_channels):
        raise bad("'channels' must be a list of channel names or URLs", channels_node)
    positions = tuple((_line(n), _column(n)) for n in channels_node.value) \
        if isinstance(channels_node, yaml.SequenceNode) else ((0, 0),) * len(raw_channels)

    deps_node = _mapping_get(root, "dependencies")
    deps = data.get("dependencies")
    if deps_node is None:
        raise bad("no 'dependencies' list", root, "list the packages under 'dependencies:'")
    if not isinstance(deps, list) or not isinstance(deps_node, yaml.SequenceNode):
        raise bad("'dependencies' must be a list", deps_node)
    conda_reqs: list[Requirement] = []
    pip_reqs: list[tuple[str, yaml.Node]] = []
    for item, node in zip(deps, deps_node.value, strict=True):
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            spec = str(item).strip()
            if not spec:
                raise bad("empty dependency", node)
            if re.search(r"\s-\s", spec):
                raise bad(f"dependency {spec!r} looks like two entries joined into one", node,
                          "check the indentation of the next line")
            conda_reqs.append(
                Requirement(spec, _conda_name(spec), "conda", _line(node), _column(node)))
        elif isinstance(item, dict) and set(item) == {"pip"}:
            pip_node = _mapping_get(node, "pip")
            if item["pip"] is None:
                continue
            if not isinstance(item["pip"], list) or not isinstance(pip_node, yaml.SequenceNode):
                raise bad("'pip' must be a list of requirements", pip_node or node)
            for spec, pnode in zip(item["pip"], pip_node.value, strict=True):
                if not isinstance(spec, str) or not spec.strip():
                    raise bad("pip requirements must be strings", pnode)
                pip_reqs.append((spec.strip(), pnode))
        else:
            raise bad("a dependency must be a package spec or a 'pip:' list", node)

    requirements = list(conda_reqs)
    for spec, pnode in pip_reqs:
        if spec == "-e" or spec.startswith("-e "):
            continue  # conda-lock skips editable installs (with a warning)
        if spec.startswith("-"):
            option = spec.split()[0]
            raise bad(
                f"pip option {option!r} cannot be locked", pnode,
                "use a 'pip-repositories:' key for extra indexes" if "index" in option
                else "list the packages themselves in the 'pip:' section",
            )
        requirements.append(
            Requirement(spec, _pip_name(spec), "pip", _line(pnode), _column(pnode)))
    if pip_reqs and not any(r.name == "python" for r in conda_reqs):
        raise bad("a 'pip:' section needs python among the conda dependencies", pip_reqs[0][1],
                  "add e.g. 'python=3.11' to 'dependencies'")
    return CondaFile(
        path=path, shown=shown, text=text, data=data,
        name=None if name is None else str(name),
        channels=tuple(raw_channels), channel_positions=positions,
        requirements=tuple(requirements),
    )


# =========================================================================== key, paths


@dataclass(frozen=True)
class LockPaths:
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
    except PackageNotFoundError:  # pragma: no cover - it is a core dependency
        return "not-installed"


def _normalise_platforms(platforms: Iterable[str] | None) -> tuple[str, ...]:
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


def _primary_platform(platforms: Sequence[str]) -> str:
    return "linux-64" if "linux-64" in platforms else platforms[0]


def _content_digest(env: CondaFile) -> str:
    """Hash of the conda file's meaning: its data, plus conda-lock's platform selectors.

    Formatting, key order and ordinary comments do not change it; selector comments
    (``- pywin32  # [win]``) do, because conda-lock honours them.
    """
    canonical = json.dumps(env.data, sort_keys=True, separators=(",", ":"), default=str)
    selectors = [ln.strip() for ln in env.text.splitlines() if _SELECTOR.search(ln)]
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


# =========================================================================== lock files


@dataclass(frozen=True)
class LockedPackage:
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


def _parse_lock_data(data: Any, source: str) -> tuple[dict[str, Any], tuple[LockedPackage, ...]]:
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
        data = yaml.load(Path(lockfile).read_bytes(), Loader=_YamlLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise LockError(f"cannot read {lockfile}: {exc}") from None
    return _parse_lock_data(data, str(lockfile))[1]


_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-=<>!*,+~/@:\[\] ]*$")


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
        f"{_KEY_PREFIX}{key}",
        f"{_INPUTS_PREFIX}{json.dumps(inputs, sort_keys=True, separators=(',', ':'))}",
        f"{_LOCKFILE_SHA_PREFIX}{lockfile_sha256}",
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
        with open(pinned_file, encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                for name, prefix in (("key", _KEY_PREFIX), ("inputs", _INPUTS_PREFIX),
                                     ("lockfile_sha256", _LOCKFILE_SHA_PREFIX)):
                    if line.startswith(prefix):
                        header[name] = line[len(prefix):].strip()
    except OSError:
        pass
    return header


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# =========================================================================== staleness


@dataclass(frozen=True)
class LockStatus:
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
        data = yaml.load(pinned_file.read_text(encoding="utf-8"), Loader=_YamlLoader)
        names: set[str] = set()
        for dep in data.get("dependencies") or []:
            if isinstance(dep, str):
                names.add(dep.split("=", 1)[0].strip().lower())
            elif isinstance(dep, dict):
                names.update(_pip_name(p) for p in dep.get("pip") or [])
        return names
    except Exception:  # noqa: BLE001 - a damaged pinned file only loses the detail
        return None


def _status(env: CondaFile, paths: LockPaths, inputs: Mapping[str, Any]) -> LockStatus:
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
    if header["key"] != key:
        try:
            recorded = json.loads(header.get("inputs", "{}"))
        except json.JSONDecodeError:
            recorded = {}
        reason, req = _describe_change(env, recorded, inputs, paths.pinned_file)
        return status("stale", reason, req)
    if header.get("lockfile_sha256") != _sha256_file(paths.lockfile):
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
    plats = _normalise_platforms(platforms)
    return _status(env, lock_paths(conda_file), compute_lock_inputs(env, plats, channel_overrides))


# =========================================================================== solver


@dataclass(frozen=True)
class SolverInfo:
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
    package_root = Path(__file__).resolve().parents[2]
    text = (
        "#!/bin/sh\n"
        f"PYTHONPATH={json.dumps(str(package_root))}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        "export PYTHONPATH\n"
        f"exec {json.dumps(sys.executable)} -m amlforge.integrations.rattler_micromamba \"$@\"\n"
    )
    if not wrapper.exists() or wrapper.read_text() != text:
        _atomic_write(wrapper, text)
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
    path = path.resolve()
    if path.name == SHIM_NAME:
        return SolverInfo(path, "embedded")
    return SolverInfo(path, _kind_of(path))


# =========================================================================== settings


def pip_index_url() -> str:
    """The PyPI index pip is configured to use (simple API URL).

    Order: ``$PIP_INDEX_URL``, pip's configuration files (``install.index-url`` then
    ``global.index-url``), then pip's default (``https://pypi.org/simple``).
    """
    env = os.environ.get("PIP_INDEX_URL", "").split()
    if env:
        return env[0]
    try:
        from pip._internal.configuration import Configuration, ConfigurationError

        config = Configuration(isolated=False)
        config.load()
        for key in ("install.index-url", "global.index-url"):
            try:
                value = str(config.get_value(key)).split()
            except ConfigurationError:
                continue
            if value:
                return value[0]
    except Exception:  # noqa: BLE001 - pip absent or its private API moved
        pass
    try:
        from pip._internal.models.index import PyPI

        return str(PyPI.simple_url)
    except Exception:  # noqa: BLE001
        return "https://pypi.org/simple"


def _redact(url: str) -> str:
    """``url`` without credentials, for messages."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", url)


def _local_channel_dir(channel: str) -> Path | None:
    expanded = os.path.expandvars(channel)
    if expanded.startswith("file://"):
        return Path(unquote(urlparse(expanded).path))
    if os.path.isabs(expanded):
        return Path(expanded)
    return None


def _preflight_channels(env: CondaFile, overrides: Sequence[str] | None) -> list[str]:
    """Check the effective channels; local ones must exist. Returns them."""
    channels = list(overrides) if overrides else list(env.channels)
    if not [c for c in channels if c != "nodefaults"]:
        raise CondaFileError(
            "no channels to lock from", env.location(),
            "add a 'channels:' list (e.g. conda-forge) to the conda file",
        )
    for channel in channels:
        directory = _local_channel_dir(channel)
        if directory is not None and not (directory / "noarch" / "repodata.json").is_file():
            where = " (from --channel)" if overrides else ""
            raise ChannelNotFoundError(
                f"channel {channel}{where} not found: "
                f"{directory / 'noarch' / 'repodata.json'} does not exist",
                env.location() if overrides else env.channel_location(channel),
                "fix the channel URL, or index the channel (it needs noarch/repodata.json)",
            )
    return channels


# =========================================================================== progress


@dataclass(frozen=True)
class LockProgress:
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


# =========================================================================== results


@dataclass(frozen=True)
class LockResult:
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
        plat = platform or (_primary_platform(self.platforms) if self.platforms else "")
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


# =========================================================================== running


def _run_streaming(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float | None,
    on_line: Callable[[str], None],
    on_idle: Callable[[float], None],
) -> tuple[int | None, list[str]]:
    """Run ``cmd``, feeding each output line to ``on_line`` and ``on_idle`` when quiet.

    Returns ``(exit status or None on timeout, all output lines)``.
    """
    lines: list[str] = []
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        encoding="utf-8", errors="replace", bufsize=1, start_new_session=True,
    )
    q: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            q.put(raw.rstrip("\n"))
        q.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    start = time.monotonic()
    last = start
    try:
        while True:
            remaining = None if timeout is None else timeout - (time.monotonic() - start)
            if remaining is not None and remaining <= 0:
                _kill_group(proc)
                return None, lines
            wait = _HEARTBEAT_SECONDS if remaining is None else min(_HEARTBEAT_SECONDS, remaining)
            try:
                item = q.get(timeout=wait)
            except queue.Empty:
                now = time.monotonic()
                if now - last >= _HEARTBEAT_SECONDS:
                    on_idle(now - start)
                    last = now
                continue
            if item is None:
                break
            lines.append(item)
            on_line(item)
            last = time.monotonic()
        return proc.wait(), lines
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        reader.join(timeout=5)
        if proc.stdout:
            proc.stdout.close()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill conda-lock and the solver processes it started (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # pragma: no cover
        proc.kill()
    proc.wait()


# =========================================================================== failures


_NETWORK = re.compile(
    r"dns error|error sending request|client error \(Connect\)|connection refused|"
    r"Max retries exceeded|NameResolutionError|NewConnectionError|timed out|"
    r"Temporary failure in name resolution|Network is unreachable|ConnectTimeout",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(r"could not find subdir|404 Not Found|\b404\b|does not exist",
                        re.IGNORECASE)
_BAD_SPEC = re.compile(r"Invalid(?:MatchSpec|VersionSpec|Version|PackageName)Error|"
                       r"InvalidSpec|Can't parse conda spec")
_PLATFORM_FAIL = re.compile(r"Could not lock the environment for platform (\S+?):?$")
_EXC_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Exit)): (.*)$")


def _mentions(text: str, name: str) -> bool:
    pattern = r"(?<![A-Za-z0-9_.\-])" + re.escape(name) + r"(?![A-Za-z0-9_\-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _solver_block(lines: Sequence[str]) -> tuple[str, str] | None:
    """``(platform, solver message)`` from conda-lock's "Could not lock ..." report."""
    for i, line in enumerate(lines):
        m = _PLATFORM_FAIL.search(line.strip())
        if not m:
            continue
        block: list[str] = []
        for nxt in lines[i + 1:]:
            if nxt.startswith("    Command:") or nxt.startswith("Traceback"):
                break
            block.append(nxt)
        message = "\n".join(block).strip()
        if message:
            return m.group(1), message
    for line in reversed(lines):  # update path: RuntimeError: Could not lock ...: msg
        m = re.search(r"Could not lock the environment for platform (\S+?): (.*)", line)
        if m:
            return m.group(1), m.group(2)
    return None


def _without_tracebacks(lines: Sequence[str]) -> list[str]:
    """Output lines with Python traceback frames removed (the final error line stays)."""
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            skipping = True
            continue
        if skipping:
            if line and not line[0].isspace() and _EXC_LINE.match(line):
                skipping = False
                out.append(line)
            continue
        if line.startswith("During handling of the above exception") or \
                line.startswith("The above exception was the direct cause"):
            continue
        out.append(line)
    return out


def _last_exception(lines: Sequence[str]) -> tuple[str, str] | None:
    for line in reversed(lines):
        m = _EXC_LINE.match(line.strip())
        if m:
            return m.group(1), m.group(2)
    return None


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _conflicts(env: CondaFile, text: str, manager: str | None = None) -> list[Requirement]:
    return [r for r in env.requirements
            if (manager is None or r.manager == manager) and _mentions(text, r.name)]


def _unsolvable(env: CondaFile, platform: str, manager: Literal["conda", "pip"],
                explanation: str) -> UnsolvableEnvironmentError:
    conflicts = _conflicts(env, explanation, manager) or _conflicts(env, explanation)
    part = "the pip: section" if manager == "pip" else "the environment"
    if len(conflicts) > 1:
        named = "conflicting requirements " + ", ".join(
            f"{r.spec} ({r.where})" for r in conflicts)
    elif conflicts:
        named = f"requirement {conflicts[0].spec} ({conflicts[0].where}) cannot be satisfied"
    else:
        named = _first_line(explanation)
    return UnsolvableEnvironmentError(
        f"cannot solve {part} for {platform}: {named}; an Azure ML image built from this "
        "conda file would fail with ImageBuildFailure",
        platform=platform, conflicts=conflicts, manager=manager,
        location=env.requirement_location(conflicts[0] if conflicts else None),
        hint="relax or change one of these requirements, then run `amlforge lock` again",
        details=explanation,
    )


def _failing_channel(env: CondaFile, message: str,
                     channels: Sequence[str]) -> tuple[str, Location]:
    """The channel (as written) a gateway error is about, and where it is written."""
    for channel in channels:
        expanded = os.path.expandvars(channel).rstrip("/")
        probes = [expanded]
        if "://" not in expanded:
            probes.append(f"/{expanded}/")
        if expanded.startswith("file://"):
            probes.append(unquote(urlparse(expanded).path))
        if any(p and p in message for p in probes):
            return channel, env.channel_location(channel)
    url = re.search(r"[a-z]+://[^\s)'`]+", message)
    return (url.group(0) if url else "(unknown)"), env.location()


def _bad_requirement(env: CondaFile, message: str) -> Requirement | None:
    """The conda requirement an invalid-spec error is about, if it can be told."""
    tokens = [t.removesuffix(".*") for t in re.findall(r"'([^']+)'", message)]
    for req in env.conda_requirements:
        compact = re.sub(r"\s+", "", req.spec)
        if any(t and t.replace(" ", "") in compact for t in tokens):
            return req
    return None


def _classify_failure(env: CondaFile, lines: Sequence[str], platforms: Sequence[str],
                      pypi_url: str, channels: Sequence[str] = ()) -> AmlforgeError:
    text = "\n".join(lines)
    tail = "\n".join(_without_tracebacks(lines)[-25:])
    block = _solver_block(lines)
    if block is not None:
        platform, message = block
        first = _first_line(message)
        if "GatewayError" in message or "FetchRepoDataError" in message \
                or "UnavailableInvalidChannel" in message or "ChannelNotFound" in message:
            channel, where = _failing_channel(env, message, channels)
            if _NETWORK.search(message):
                cause = _first_line(message.splitlines()[-1]).removeprefix("Caused by: ")
                return IndexUnreachableError(
                    f"cannot reach conda channel {channel}: {cause}",
                    where, "check the network, proxy or channel URL", message)
            if _NOT_FOUND.search(message):
                return ChannelNotFoundError(
                    f"channel {channel} not found: {first}", where,
                    "fix the channel name or URL in the conda file")
            return LockError(f"conda channel {channel}: {first}", where, "",
                             message)
        if _BAD_SPEC.search(message):
            req = _bad_requirement(env, message)
            return CondaFileError(
                f"invalid conda requirement{f' {req.spec!r}' if req else ''}: {first}",
                env.requirement_location(req),
                "use conda match spec syntax, e.g. 'numpy>=1.26,<2' or 'python=3.11'")
        return _unsolvable(env, platform, "conda", message)
    bad_specs = [m for m in re.findall(r"Failed to turn `([^`]*)` into a MatchSpec", text)
                 if m != "{spec}"]
    if bad_specs:
        spec = bad_specs[-1].strip()
        req = next((r for r in env.conda_requirements if r.spec == spec), None)
        return CondaFileError(
            f"invalid conda requirement {spec!r}",
            env.requirement_location(req),
            "use conda match spec syntax, e.g. 'numpy>=1.26,<2' or 'python=3.11'")
    if "InvalidRequirement" in text:
        exc = _last_exception(lines)
        stripped = {ln.strip() for ln in lines}
        req = next((r for r in env.pip_requirements if r.spec in stripped), None)
        return CondaFileError(
            f"invalid pip requirement{f' {req.spec!r}' if req else ''}: "
            f"{exc[1] if exc else _first_line(tail)}",
            env.requirement_location(req),
            "use PEP 508 syntax, e.g. 'requests>=2.31,<3'")
    if "SolverProblemError" in text or "version solving failed" in text:
        exc = _last_exception(lines)
        explanation = exc[1] if exc else _first_line(tail)
        return _unsolvable(env, _primary_platform(platforms), "pip", explanation)
    if _NETWORK.search(tail):
        host = re.search(r"host='([^']+)'", tail)
        exc = _last_exception(lines)
        where = _redact(pypi_url) if not host or host.group(1) in pypi_url else host.group(1)
        cause = "connection failed"
        for pattern, label in ((r"Connection refused", "connection refused"),
                               (r"NameResolutionError|Name or service not known|"
                                r"Temporary failure in name resolution", "name resolution failed"),
                               (r"timed out|ConnectTimeout", "timed out")):
            if re.search(pattern, tail, re.IGNORECASE):
                cause = label
                break
        return IndexUnreachableError(
            f"cannot reach the package index {where}: {cause}", env.location(),
            "check the network or proxy; amlforge resolves the pip: section against "
            f"{_redact(pypi_url)} (set PIP_INDEX_URL or pip's index-url to change it)",
            exc[1] if exc else tail)
    if "PackageNotFoundError" in text:
        exc = _last_exception(lines)
        return LockError(
            f"PyPI lookup failed: {exc[1] if exc else 'package not found'}", env.location(),
            f"the index {_redact(pypi_url)} must serve the PEP 503 simple API; set "
            f"{_POETRY_URL_VAR} to a simple index URL", tail)
    if "channel configuration has changed" in text:
        return LockError(
            "cannot --update: the channels changed since the last lock", env.location(),
            "run `amlforge lock` without --update to re-lock from scratch", tail)
    if "Could not find conda (or compatible) executable" in text:
        return SolverNotFoundError("conda-lock found no conda solver executable",
                                   hint="pass --solver embedded")
    exc = _last_exception(lines)
    cause = f"{exc[0]}: {exc[1]}" if exc else _first_line(tail) or "conda-lock failed"
    return LockError(f"conda-lock failed: {_first_line(cause)}", env.location(), "", tail)


# =========================================================================== locking


def _check_update(env: CondaFile, paths: LockPaths, update: Sequence[str]) -> None:
    if not paths.lockfile.exists():
        raise UserInputError(
            f"nothing to update: {paths.lockfile.name} does not exist",
            env.location(), "run `amlforge lock` without --update first")
    locked = read_lockfile(paths.lockfile)
    conda_locked = {p.name for p in locked if p.manager == "conda"}
    pip_locked = {_canonical_pip(p.name) for p in locked if p.manager == "pip"}
    direct = {r.name for r in env.conda_requirements}
    for name in update:
        if name in conda_locked:
            if name not in direct:
                raise UserInputError(
                    f"cannot --update {name}: it is not a direct dependency in {env.path.name}",
                    env.location(), f"add {name} to 'dependencies' to update it, or re-lock")
        elif _canonical_pip(name) not in pip_locked:
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
    plats = _normalise_platforms(platforms)
    paths = lock_paths(path)
    inputs = compute_lock_inputs(env, plats, channel_overrides)
    status = _status(env, paths, inputs)
    common = dict(conda_file=paths.conda_file, lockfile=paths.lockfile,
                  pinned_file=paths.pinned_file, key=status.key, platforms=plats,
                  status=status)
    if check_only:
        return LockResult(action="checked", seconds=time.monotonic() - start, **common)
    if status.fresh and not force and not update:
        packages = read_lockfile(paths.lockfile)
        emit("cached", "lock is up to date (cached)")
        return LockResult(action="cached", packages=packages,
                          seconds=time.monotonic() - start, **common)

    if update:
        _check_update(env, paths, update)
    channels = _preflight_channels(env, channel_overrides)
    solver_info = resolve_solver(solver)
    index = pypi_url or os.environ.get(_POETRY_URL_VAR) or pip_index_url()
    emit("start", f"locking for {', '.join(plats)} with {solver_info.describe()}"
         + (f" (reason: {status.reason})" if status.reason else ""))

    tmp_lock = paths.lockfile.with_name(
        f".{paths.lockfile.stem}.{os.getpid()}.{threading.get_ident()}.tmp.yml")
    try:
        if update:
            shutil.copyfile(paths.lockfile, tmp_lock)
        cmd = [sys.executable, "-m", "conda_lock", "lock",
               "--conda", str(solver_info.path),
               "--file", paths.conda_file.name,
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
        child_env[_POETRY_URL_VAR] = index
        child_env["PYTHONUNBUFFERED"] = "1"
        child_env.setdefault("PYTHONIOENCODING", "utf-8")
        has_pip = bool(env.pip_requirements)

        def on_line(line: str) -> None:
            m = re.search(r"INFO:conda_lock\.conda_solver:(\S+) using specs", line)
            if m:
                emit("solve", f"solving conda packages for {m.group(1)}")
                if has_pip:
                    emit("pip", f"resolving {len(env.pip_requirements)} pip requirement(s) "
                         f"against {_redact(index)} (this can take tens of seconds)")
            elif line.startswith("Locking dependencies for"):
                pass
            elif line.startswith("WARNING") or line.startswith("Warning"):
                emit("wait", line.strip())

        def on_idle(elapsed: float) -> None:
            emit("wait", f"still locking ({elapsed:.0f} s)")

        code, lines = _run_streaming(cmd, env=child_env, cwd=paths.conda_file.parent,
                                     timeout=timeout, on_line=on_line, on_idle=on_idle)
        if code is None:
            raise LockError(f"conda-lock did not finish within {timeout:.0f} s",
                            env.location(), "raise the timeout or check the network")
        if code != 0 or not tmp_lock.exists():
            raise _classify_failure(env, lines, plats, index, channels)

        lock_bytes = tmp_lock.read_bytes()
        _, packages = _parse_lock_data(yaml.load(lock_bytes, Loader=_YamlLoader),
                                              str(tmp_lock))
        primary = _primary_platform(plats)
        if not any(p.platform == primary for p in packages):
            raise LockError(f"conda-lock wrote no packages for {primary}", env.location(),
                            details="\n".join(lines[-25:]))
        pinned = render_pinned(
            env, packages, platform=primary,
            channels=[c for c in channels if c != "nodefaults"] if channel_overrides
            else list(env.channels),
            key=status.key, inputs=inputs, lockfile_name=paths.lockfile.name,
            lockfile_sha256=hashlib.sha256(lock_bytes).hexdigest(),
        )
        os.replace(tmp_lock, paths.lockfile)
        _atomic_write(paths.pinned_file, pinned)
    except AmlforgeError as exc:
        emit("failed", str(exc).splitlines()[0])
        raise
    finally:
        tmp_lock.unlink(missing_ok=True)
    seconds = time.monotonic() - start
    n_conda = sum(1 for p in packages if p.platform == primary and p.manager == "conda")
    n_pip = sum(1 for p in packages if p.platform == primary and p.manager == "pip")
    emit("done", f"locked {n_conda} conda + {n_pip} pip packages in {seconds:.1f} s")
    return LockResult(action="locked", packages=packages, solver=solver_info,
                      seconds=seconds, **common)


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
    files = list(dict.fromkeys(Path(f).resolve() for f in conda_files))
    owners: dict[Path, Path] = {}
    for f in files:
        for out in (lock_paths(f).lockfile, lock_paths(f).pinned_file):
            if out in owners:
                raise UserInputError(
                    f"{owners[out].name} and {f.name} would both write {out.name}",
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

