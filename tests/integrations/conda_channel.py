"""Build a tiny, real, local ``file://`` conda channel for tests and benchmarks.

The channel holds genuine conda packages in both archive formats:

* ``.tar.bz2`` (format v1): a bzip2 tarball with ``info/index.json``,
  ``info/paths.json`` and ``info/about.json``;
* ``.conda`` (format v2): an uncompressed zip holding ``metadata.json``,
  ``info-<dist>.tar.zst`` and ``pkg-<dist>.tar.zst``.

``repodata.json`` of every subdir lists each archive under ``packages`` or
``packages.conda`` with its true ``md5``, ``sha256`` and ``size``, exactly as
``conda index`` / ``rattler-index`` would write them. The packages contain no
software, so they are good for solving (a dry-run lock reads only
``repodata.json``) and for downloading and hash checking, not for running.

Everything is deterministic: fixed timestamps, sorted JSON and fixed compression
settings, so two builds of the same package list are byte-identical.

Only the standard library is used, plus ``zstandard`` for ``.conda`` archives
(a dependency of conda-lock, so always present where amlforge is installed).

Example:
    >>> from pathlib import Path
    >>> url = build_channel(Path("/tmp/chan"))      # doctest: +SKIP
    >>> url                                          # doctest: +SKIP
    'file:///tmp/chan'
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_PACKAGES",
    "FakePackage",
    "add_packages",
    "build_channel",
    "read_repodata",
]

#: Fixed build timestamp (milliseconds since the epoch, as repodata stores it).
TIMESTAMP_MS = 1_717_200_000_000
_MTIME = TIMESTAMP_MS // 1000
_SUBDIRS = ("linux-64", "noarch")


@dataclass(frozen=True)
class FakePackage:
    """One conda package to put in the channel.

    Attributes:
        name: Package name.
        version: Version string.
        build: Build string.
        build_number: Build number.
        subdir: ``linux-64`` or ``noarch``.
        depends: Run dependencies as conda match specs.
        constrains: Run constraints as conda match specs.
        noarch: ``"python"`` or ``"generic"`` for noarch packages, else ``None``.
        fmt: Archive format, ``"tar.bz2"`` or ``"conda"``.
    """

    name: str
    version: str
    build: str = "0"
    build_number: int = 0
    subdir: str = "noarch"
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    noarch: str | None = None
    fmt: Literal["tar.bz2", "conda"] = "tar.bz2"
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def dist_name(self) -> str:
        """``name-version-build``, the archive name without its extension."""
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def filename(self) -> str:
        """Archive file name, e.g. ``numpy-1.26.4-py311_0.conda``."""
        return f"{self.dist_name}.{self.fmt}"

    def index_json(self) -> dict[str, object]:
        """The package's ``info/index.json`` content."""
        index: dict[str, object] = {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": self.build_number,
            "depends": list(self.depends),
            "constrains": list(self.constrains),
            "license": "BSD-3-Clause",
            "subdir": self.subdir,
            "timestamp": TIMESTAMP_MS,
        }
        if self.subdir != "noarch":
            index["platform"], index["arch"] = "linux", "x86_64"
        if self.noarch:
            index["noarch"] = self.noarch
        index.update(self.extra)
        return index


_GLIBC = "__glibc >=2.17,<3.0.a0"
_PY311 = ("python >=3.11,<3.12.0a0", "python_abi 3.11.* *_cp311")
_PYNOARCH = {"noarch": "python"}

#: A small but realistic scientific stack (python 3.11 + scikit-learn) for linux-64.
DEFAULT_PACKAGES: tuple[FakePackage, ...] = (
    FakePackage("libgcc-ng", "13.2.0", "h77fa898_7", 7, "linux-64", (_GLIBC,)),
    FakePackage("libstdcxx-ng", "13.2.0", "hc0a3c3a_7", 7, "linux-64",
                ("libgcc-ng 13.2.0 h77fa898_7",)),
    FakePackage("libzlib", "1.3.1", "h4ab18f5_1", 1, "linux-64", ("libgcc-ng >=12",)),
    FakePackage("openssl", "3.3.1", "h4ab18f5_0", 0, "linux-64",
                ("ca-certificates", "libgcc-ng >=12"), fmt="conda"),
    FakePackage("python", "3.11.9", "hb806964_0_cpython", 0, "linux-64",
                ("libgcc-ng >=12", "libzlib >=1.2.13,<2.0.0a0", "openssl >=3.3.1,<4.0a0"),
                fmt="conda"),
    FakePackage("python", "3.12.3", "hab00c5b_0_cpython", 0, "linux-64",
                ("libgcc-ng >=12", "libzlib >=1.2.13,<2.0.0a0", "openssl >=3.3.1,<4.0a0"),
                fmt="conda"),
    FakePackage("python_abi", "3.11", "4_cp311", 4, "linux-64",
                constrains=("python 3.11.* *_cpython",)),
    FakePackage("python_abi", "3.12", "4_cp312", 4, "linux-64",
                constrains=("python 3.12.* *_cpython",)),
    FakePackage("numpy", "1.26.4", "py311h64a7726_0", 0, "linux-64",
                ("libgcc-ng >=12", "libstdcxx-ng >=12", *_PY311),
                constrains=("numpy-base <0a0",), fmt="conda"),
    FakePackage("numpy", "2.0.0", "py311h1461c94_0", 0, "linux-64",
                ("libgcc-ng >=12", "libstdcxx-ng >=12", *_PY311),
                constrains=("numpy-base <0a0",), fmt="conda"),
    FakePackage("scipy", "1.13.1", "py311h517d4fd_0", 0, "linux-64",
                ("libgcc-ng >=12", "libstdcxx-ng >=12", "numpy >=1.23.5,<2.0a0", *_PY311)),
    FakePackage("scikit-learn", "1.5.0", "py311he08f58d_1", 1, "linux-64",
                ("joblib >=1.2.0", "libgcc-ng >=12", "libstdcxx-ng >=12", "numpy >=1.19,<3",
                 "scipy", "threadpoolctl >=3.1.0", *_PY311)),
    FakePackage("ca-certificates", "2024.6.2", "hbcca054_0", 0, "noarch",
                noarch="generic"),
    FakePackage("pip", "24.0", "pyhd8ed1ab_0", 0, "noarch",
                ("python >=3.7", "setuptools", "wheel"), noarch="python"),
    FakePackage("setuptools", "70.0.0", "pyhd8ed1ab_0", 0, "noarch", ("python >=3.8",),
                noarch="python"),
    FakePackage("wheel", "0.43.0", "pyhd8ed1ab_1", 1, "noarch", ("python >=3.8",),
                noarch="python"),
    FakePackage("joblib", "1.4.2", "pyhd8ed1ab_0", 0, "noarch",
                ("python >=3.8", "setuptools"), noarch="python", fmt="conda"),
    FakePackage("threadpoolctl", "3.5.0", "pyhc1e730c_0", 0, "noarch", ("python >=3.8",),
                noarch="python"),
)


# --------------------------------------------------------------------------- archives


def _tar(members: Sequence[tuple[str, bytes]], mode: Literal["w", "w:bz2"]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = _MTIME
            info.mode = 0o644
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def _info_members(pkg: FakePackage) -> list[tuple[str, bytes]]:
    about = {"summary": f"test package {pkg.name} (metadata only)", "license": "BSD-3-Clause"}
    return [
        ("info/about.json", _json_bytes(about)),
        ("info/index.json", _json_bytes(pkg.index_json())),
        ("info/paths.json", _json_bytes({"paths": [], "paths_version": 1})),
    ]


def _tar_bz2_archive(pkg: FakePackage) -> bytes:
    # tarfile's "w:bz2" embeds nothing time-dependent, but compress explicitly to fix
    # the level: the archive is then byte-identical across runs and Python versions.
    return bz2.compress(_tar(_info_members(pkg), "w"), 9)


def _conda_archive(pkg: FakePackage) -> bytes:
    import zstandard  # a conda-lock dependency

    zstd = zstandard.ZstdCompressor(level=19)
    info = zstd.compress(_tar(_info_members(pkg), "w"))
    payload = zstd.compress(_tar([], "w"))
    buf = io.BytesIO()
    stamp = (2024, 6, 1, 0, 0, 0)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (
            ("metadata.json", _json_bytes({"conda_pkg_format_version": 2})),
            (f"pkg-{pkg.dist_name}.tar.zst", payload),
            (f"info-{pkg.dist_name}.tar.zst", info),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    return buf.getvalue()


def _archive(pkg: FakePackage) -> bytes:
    if pkg.fmt == "conda":
        return _conda_archive(pkg)
    if pkg.fmt == "tar.bz2":
        return _tar_bz2_archive(pkg)
    raise ValueError(f"unknown package format {pkg.fmt!r}")


# --------------------------------------------------------------------------- channel


def _empty_repodata(subdir: str) -> dict[str, Any]:
    return {
        "info": {"subdir": subdir},
        "packages": {},
        "packages.conda": {},
        "removed": [],
        "repodata_version": 1,
    }


def read_repodata(root: Path, subdir: str) -> dict[str, Any]:
    """Read one subdir's ``repodata.json`` (an empty skeleton if there is none).

    Args:
        root: Channel directory.
        subdir: ``linux-64`` or ``noarch``.

    Returns:
        The parsed repodata.
    """
    path = root / subdir / "repodata.json"
    if path.is_file():
        return json.loads(path.read_text())
    return _empty_repodata(subdir)


def add_packages(root: Path, packages: Iterable[FakePackage]) -> str:
    """Write packages into a (new or existing) channel and re-index it.

    Args:
        root: Channel directory; created if needed.
        packages: Packages to add. An existing archive of the same file name is replaced.

    Returns:
        The channel's ``file://`` URL.
    """
    root = root.resolve()
    repodata = {sd: read_repodata(root, sd) for sd in _SUBDIRS}
    for pkg in packages:
        if pkg.subdir not in repodata:
            raise ValueError(f"{pkg.filename}: subdir {pkg.subdir!r} not in {_SUBDIRS}")
        blob = _archive(pkg)
        (root / pkg.subdir).mkdir(parents=True, exist_ok=True)
        (root / pkg.subdir / pkg.filename).write_bytes(blob)
        record = pkg.index_json()
        record.update(
            md5=hashlib.md5(blob).hexdigest(),
            sha256=hashlib.sha256(blob).hexdigest(),
            size=len(blob),
        )
        key = "packages.conda" if pkg.fmt == "conda" else "packages"
        repodata[pkg.subdir][key][pkg.filename] = record
    for subdir, data in repodata.items():
        (root / subdir).mkdir(parents=True, exist_ok=True)
        (root / subdir / "repodata.json").write_text(json.dumps(data, indent=1, sort_keys=True))
    (root / "channeldata.json").write_text(
        json.dumps({"channeldata_version": 1, "packages": {}, "subdirs": list(_SUBDIRS)})
    )
    return root.as_uri()


def build_channel(root: Path, packages: Iterable[FakePackage] = DEFAULT_PACKAGES) -> str:
    """Build a fresh channel at ``root`` (which should be empty or absent).

    Args:
        root: Channel directory.
        packages: Packages to put in it; defaults to :data:`DEFAULT_PACKAGES`.

    Returns:
        The channel's ``file://`` URL.
    """
    root.mkdir(parents=True, exist_ok=True)
    return add_packages(root, packages)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(build_channel(Path(sys.argv[1] if len(sys.argv) > 1 else "local-channel")))
