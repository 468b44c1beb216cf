"""An embedded conda solver for conda-lock: a micromamba look-alike backed by py-rattler.

conda-lock 4.x always shells out to a ``conda``, ``mamba`` or ``micromamba`` executable
for the conda half of a lock, and none of those can be installed from PyPI. This module
is installed as the console script ``amlforge-rattler-micromamba`` and answers the few
micromamba commands conda-lock sends, solving with py-rattler (the resolvo solver that
pixi uses). It never installs anything: only dry runs are supported.

The executable's name must end in ``micromamba``: conda-lock picks its command dialect
(``update`` vs ``install``, ``--no-pip``) from that suffix.

Commands understood (what ``conda_lock.conda_solver`` and ``invoke_conda`` send)::

    --version
    create  --prefix P --dry-run --json [--override-channels] --channel URL... SPEC...
    update|install -p P --json --dry-run [--override-channels] --channel URL... SPEC...
    list [--no-pip] -p P --json
    config --json list pkgs_dirs
    info --json

Environment variables read (conda-lock sets the first two):

* ``CONDA_SUBDIR``: target platform (``linux-64`` ...).
* ``CONDA_PKGS_DIRS``: echoed back by ``config`` and ``info``.
* ``CONDA_OVERRIDE_<NAME>``: virtual packages, used only when conda-lock's virtual
  package channel is absent.
* ``CONDA_CHANNEL_PRIORITY``: ``strict`` (default), ``flexible`` or ``disabled``.
* ``AMLFORGE_RATTLER_CACHE``: repodata cache directory for remote channels
  (default: rattler's own cache directory).

Errors are reported the way micromamba reports them to conda-lock: a JSON object
``{"success": false, "message": ...}`` on stdout and exit status 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform as _platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlparse

from msgspec import Struct, field

if TYPE_CHECKING:  # pragma: no cover - typing only
    import rattler

__all__ = ["SHIM_VERSION", "Invocation", "ShimError", "main", "parse_args"]

#: The micromamba version this shim claims to be (conda-lock requires >= 0.17 and
#: enables ``list --no-pip`` from 2.0.7).
SHIM_VERSION = "2.3.0"

#: What conda calls ``defaults`` on linux / macOS.
_DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")

_SOLVE_COMMANDS = frozenset({"create", "install", "update"})
_IGNORED_FLAGS = frozenset(
    {"-y", "--yes", "-q", "--quiet", "--no-pip", "--offline", "--no-rc", "--no-env",
     "-v", "-vv", "-vvv", "--override-channels", "--json", "--strict-channel-priority"}
)
_VALUE_FLAGS = frozenset({"-n", "--name", "-r", "--root-prefix", "--rc-file"})


class ShimError(Exception):
    """A failure reported to conda-lock as ``{"success": false, "message": ...}``."""


class Invocation(Struct):
    """A parsed shim command line.

    Attributes:
        command: First positional word (``create``, ``list`` ...), or ``""``.
        prefix: Value of ``-p``/``--prefix``.
        channels: ``--channel`` values in order.
        specs: Match specs (positional words after the command).
        dry_run: Whether ``--dry-run`` was given.
        words: Positional words after the command that are not specs (``config list x``).
    """

    command: str = ""
    prefix: str | None = None
    channels: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    dry_run: bool = False
    words: list[str] = field(default_factory=list)


def parse_args(argv: Sequence[str]) -> Invocation:
    """Parse the micromamba-style arguments conda-lock passes.

    Args:
        argv: Arguments without the program name.

    Returns:
        The parsed invocation.

    Raises:
        ShimError: An option that needs a value is the last argument.
    """
    inv = Invocation()
    args = list(argv)
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        if i + 1 >= len(args):
            raise ShimError(f"option {flag} needs a value")
        i += 1
        return args[i]

    while i < len(args):
        tok = args[i]
        if tok in ("-p", "--prefix"):
            inv.prefix = value(tok)
        elif tok.startswith("--prefix="):
            inv.prefix = tok.partition("=")[2]
        elif tok in ("-c", "--channel"):
            inv.channels.append(value(tok))
        elif tok.startswith("--channel="):
            inv.channels.append(tok.partition("=")[2])
        elif tok in ("-d", "--dry-run"):
            inv.dry_run = True
        elif tok in _VALUE_FLAGS:
            value(tok)
        elif tok in _IGNORED_FLAGS or tok.startswith("-"):
            pass  # flags that do not change a dry-run solve
        elif not inv.command:
            inv.command = tok
        elif inv.command in _SOLVE_COMMANDS:
            inv.specs.append(tok)
        else:
            inv.words.append(tok)
        i += 1
    return inv


# --------------------------------------------------------------------------- helpers


def host_subdir() -> str:
    """The conda subdir of this machine, e.g. ``linux-64``."""
    machine = _platform.machine().lower()
    if sys.platform.startswith("linux"):
        return {"x86_64": "linux-64", "amd64": "linux-64", "aarch64": "linux-aarch64",
                "arm64": "linux-aarch64", "ppc64le": "linux-ppc64le"}.get(machine, "linux-64")
    if sys.platform == "darwin":
        return "osx-arm64" if machine == "arm64" else "osx-64"
    return "win-64"


def _local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if os.path.isabs(url):
        return Path(url)
    return None


def _expand_channels(channels: Sequence[str]) -> list[str]:
    out: list[str] = []
    for ch in channels:
        if ch == "defaults":
            out.extend(_DEFAULTS)
        elif ch != "nodefaults" and ch not in out:
            out.append(ch)
    return out


def _virtual_records(url: str, subdir: str) -> list[dict[str, Any]] | None:
    """Records of a local channel made only of virtual (``__*``) packages, else None.

    conda-lock appends such a channel (``conda-lock-fake-repodata-*``) to describe the
    target machine: ``__glibc``, ``__unix``, ``__linux``, ``__cuda``, ``__archspec``.
    """
    root = _local_path(url)
    if root is None:
        return None
    records: list[dict[str, Any]] = []
    for sd in dict.fromkeys((subdir, "noarch")):
        path = root / sd / "repodata.json"
        if path.is_file() and path.stat().st_size > 1_000_000:
            return None  # a real (mirrored) channel, not conda-lock's few virtual packages
        if path.is_file():
            data = json.loads(path.read_text())
            records += list(data.get("packages", {}).values())
            records += list(data.get("packages.conda", {}).values())
    if records and all(str(r.get("name", "")).startswith("__") for r in records):
        return records
    return None


def _virtual_packages_from_env(subdir: str) -> list[rattler.GenericVirtualPackage]:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    out = []
    for key, val in sorted(os.environ.items()):
        if key.startswith("CONDA_OVERRIDE_") and val:
            name = "__" + key.removeprefix("CONDA_OVERRIDE_").lower()
            version, build = ("1", val) if name == "__archspec" else (val, "0")
            out.append(
                GenericVirtualPackage(PackageName(name), Version(version), BuildString(build)))
    names = {p.name.normalized for p in out}
    family = "__win" if subdir.startswith("win") else "__unix"
    if family not in names:
        out.append(GenericVirtualPackage(PackageName(family), Version("0"), BuildString("0")))
    return out


def split_channels(
    channels: Sequence[str], subdir: str
) -> tuple[list[str], list[rattler.GenericVirtualPackage]]:
    """Separate real channels from conda-lock's virtual-package channel.

    rattler takes the target machine's virtual packages as a separate argument, not as
    channel records, so the records of the virtual-package channel become
    ``GenericVirtualPackage`` objects (the highest version of each name wins).

    Args:
        channels: ``--channel`` values as given.
        subdir: Target platform.

    Returns:
        ``(real channel URLs, virtual packages)``.
    """
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    real: list[str] = []
    best: dict[str, tuple[Version, str]] = {}
    found_virtual = False
    for url in _expand_channels(channels):
        records = _virtual_records(url, subdir)
        if records is None:
            real.append(url)
            continue
        found_virtual = True
        for rec in records:
            version = Version(str(rec["version"]))
            build = str(rec.get("build") or rec.get("build_string") or "0")
            if rec["name"] not in best or version > best[rec["name"]][0]:
                best[rec["name"]] = (version, build)
    if not found_virtual:
        return real, _virtual_packages_from_env(subdir)
    virtual = [
        GenericVirtualPackage(PackageName(name), version, BuildString(build))
        for name, (version, build) in sorted(best.items())
    ]
    return real, virtual


def _channel_priority() -> rattler.ChannelPriority:
    from rattler import ChannelPriority

    value = os.environ.get("CONDA_CHANNEL_PRIORITY", "strict").strip().lower()
    return {
        "flexible": ChannelPriority.Flexible,
        "disabled": ChannelPriority.Disabled,
        "false": ChannelPriority.Disabled,
    }.get(value, ChannelPriority.Strict)


def _fetch_action(record: rattler.RepoDataRecord) -> dict[str, Any]:
    """A conda ``FETCH`` action: the full repodata record plus its URL and channel."""
    data: dict[str, Any] = json.loads(record.to_json())
    data.setdefault("fn", record.file_name)
    data.setdefault("url", record.url)
    data.setdefault("channel", record.channel)
    data.setdefault("depends", [])
    data.setdefault("constrains", [])
    data["build_string"] = data.get("build", "")
    return data


def _dist_name(filename: str) -> str:
    for ext in (".tar.bz2", ".conda"):
        if filename.endswith(ext):
            return filename[: -len(ext)]
    return filename


def _link_action(data: dict[str, Any], subdir: str) -> dict[str, Any]:
    """A conda ``LINK`` action (what ``conda-meta`` and ``list --json`` show)."""
    fn = str(data.get("fn", ""))
    channel = str(data.get("channel") or "")
    return {
        "name": data["name"],
        "version": data["version"],
        "build_string": data.get("build", data.get("build_string", "")),
        "build_number": data.get("build_number", 0),
        "channel": channel,
        "base_url": channel,
        "dist_name": _dist_name(fn),
        "fn": fn,
        "platform": data.get("subdir", subdir),
    }


def read_prefix(prefix: str | None) -> dict[str, dict[str, Any]]:
    """Read the ``conda-meta/*.json`` records of a (fake) prefix, keyed by name."""
    if not prefix:
        return {}
    meta = Path(prefix) / "conda-meta"
    out: dict[str, dict[str, Any]] = {}
    if meta.is_dir():
        for path in sorted(meta.glob("*.json")):
            data = json.loads(path.read_text())
            if isinstance(data, dict) and "name" in data:
                out[str(data["name"])] = data
    return out


# --------------------------------------------------------------------------- solving


async def _solve(
    inv: Invocation, subdir: str, installed: dict[str, dict[str, Any]]
) -> list[rattler.RepoDataRecord]:
    import rattler

    channels, virtual = split_channels(inv.channels, subdir)
    if not channels:
        raise ShimError("no channels given (conda-lock always passes --channel)")
    cache = os.environ.get("AMLFORGE_RATTLER_CACHE")
    gateway = rattler.Gateway(cache_dir=Path(cache)) if cache else rattler.Gateway()
    platforms: list[Any] = [subdir, "noarch"] if subdir != "noarch" else ["noarch"]
    specs = list(inv.specs)
    locked: list[rattler.RepoDataRecord] = []
    if installed:
        # An update: the named specs may move; everything else already installed is
        # kept as a solver preference (rattler's "locked" packages), so it only moves
        # when the requested update cannot be satisfied otherwise.
        moving = {rattler.MatchSpec(s).name.normalized for s in specs}
        keep = {n: d for n, d in installed.items() if n not in moving}
        specs += sorted(keep)
        if keep:
            found = await gateway.query(channels, platforms, sorted(keep), recursive=False)
            wanted = {(n, str(d.get("version")), str(d.get("build", d.get("build_string"))))
                      for n, d in keep.items()}
            locked = [
                rec for group in found for rec in group
                if (rec.name.normalized, str(rec.version), str(rec.build)) in wanted
            ]
    return await rattler.solve(
        sources=channels,
        specs=specs,
        gateway=gateway,
        platforms=platforms,
        virtual_packages=virtual,
        locked_packages=locked or None,
        channel_priority=_channel_priority(),
    )


def _dry_run(inv: Invocation, subdir: str) -> dict[str, Any]:
    if not inv.dry_run:
        raise ShimError(
            "amlforge-rattler-micromamba only solves (--dry-run); it cannot install. "
            "Use a real conda or micromamba to install a lock."
        )
    installed = read_prefix(inv.prefix) if inv.command != "create" else {}
    try:
        records = asyncio.run(_solve(inv, subdir, installed))
    except ShimError:
        raise
    except Exception as exc:  # rattler's solver, gateway and parse errors
        raise ShimError(f"{type(exc).__name__}: {exc}") from exc
    fetch: list[dict[str, Any]] = []
    link: list[dict[str, Any]] = []
    for record in records:
        data = _fetch_action(record)
        old = installed.get(data["name"])
        if old and str(old.get("version")) == data["version"] and \
                str(old.get("build", old.get("build_string"))) == data.get("build"):
            continue  # unchanged by an update: micromamba reports only changes
        fetch.append(data)
        link.append(_link_action(data, subdir))
    return {
        "success": True,
        "dry_run": True,
        "prefix": inv.prefix,
        "actions": {"FETCH": fetch, "LINK": link, "PREFIX": inv.prefix},
    }


def run(argv: Sequence[str]) -> tuple[int, str]:
    """Execute one shim command.

    Args:
        argv: Arguments without the program name.

    Returns:
        ``(exit status, text for stdout)``.
    """
    if not argv or argv[0] in ("--version", "-V", "version"):
        return 0, SHIM_VERSION + "\n"
    try:
        inv = parse_args(argv)
        subdir = os.environ.get("CONDA_SUBDIR") or host_subdir()
        pkgs_dirs = [p for p in os.environ.get("CONDA_PKGS_DIRS", "").split(os.pathsep) if p]
        if not pkgs_dirs:
            pkgs_dirs = [str(Path.home() / ".cache" / "amlforge" / "rattler-micromamba-pkgs")]
        if inv.command in ("config", "info"):
            result: Any = {"pkgs_dirs": pkgs_dirs, "package cache": pkgs_dirs,
                           "platform": subdir, "micromamba version": SHIM_VERSION}
        elif inv.command == "list":
            if not inv.prefix:
                raise ShimError("list needs -p PREFIX")
            result = [_link_action(d, subdir) for d in read_prefix(inv.prefix).values()]
        elif inv.command in _SOLVE_COMMANDS:
            result = _dry_run(inv, subdir)
        else:
            return 2, _error_json(f"unsupported command: {' '.join(argv)}")
    except ShimError as exc:
        return 1, _error_json(str(exc))
    return 0, json.dumps(result, indent=2, sort_keys=True) + "\n"


def _error_json(message: str) -> str:
    return json.dumps({"success": False, "message": message,
                       "error": "RattlerMicromambaError"}, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point (``amlforge-rattler-micromamba``).

    Exits with :func:`os._exit` once the answer is written: py-rattler 0.28 leaves
    runtime threads behind that can crash the interpreter while it finalizes
    (``Fatal Python error: PyGILState_Release``, SIGABRT or SIGSEGV), which conda-lock
    would report as a failed solve even though the answer was complete.
    """
    from amlforge.extras import missing

    if missing("lock", ("rattler",)):
        sys.stderr.write("amlforge-rattler-micromamba needs the 'lock' extra (py-rattler is not installed)\n"
                         "  hint: pip install 'amlforge[lock]'\n")
        sys.stderr.flush()
        os._exit(2)
    code, text = run(sys.argv[1:] if argv is None else argv)
    sys.stdout.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
