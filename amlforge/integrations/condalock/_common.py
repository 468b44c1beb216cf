"""Constants and small helpers shared by the conda-lock integration modules."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import yaml

#: Platforms locked when none are given: Azure ML online deployments run linux-64 images.
DEFAULT_PLATFORMS: tuple[str, ...] = ("linux-64",)

#: conda subdirs conda-lock can lock for.
KNOWN_PLATFORMS = frozenset({
    "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l", "linux-32",
    "osx-64", "osx-arm64", "win-64", "win-32", "win-arm64",
})

#: Shipped PyPI -> conda name mapping (see ``amlforge/data/pypi_to_conda.md``).
MAPPING_FILE = Path(__file__).resolve().parents[2] / "data" / "pypi_to_conda.json"

#: Name of the embedded solver's console script. It must end in ``micromamba``.
SHIM_NAME = "amlforge-rattler-micromamba"

#: Default hard limit for one conda-lock run, in seconds.
DEFAULT_TIMEOUT = 1800.0

#: Environment variable that gives conda-lock's vendored poetry a PEP 503 index.
POETRY_URL_VAR = "POETRY_REPOSITORIES_PYPISIMPLE_URL"

#: Header lines of the pinned file.
KEY_PREFIX = "# amlforge-lock-key: "
INPUTS_PREFIX = "# amlforge-lock-inputs: "
LOCKFILE_SHA_PREFIX = "# amlforge-lockfile-sha256: "

try:  # the C loader is 5-10x faster on lock files
    YAML_LOADER: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    YAML_LOADER = yaml.SafeLoader


def primary_platform(platforms: Sequence[str]) -> str:
    """The platform the pinned file is written for: linux-64 if locked, else the first."""
    return "linux-64" if "linux-64" in platforms else platforms[0]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def redact_url(url: str) -> str:
    """``url`` without credentials, for messages."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", url)
