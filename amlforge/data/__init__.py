"""Data files shipped with amlforge (sources and licences in SOURCES.md)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

#: The folder of the data files. A plain path: importlib.resources would import tempfile,
#: shutil and random on every start-up for files that are always on disk in a wheel install.
DATA_DIR = Path(__file__).resolve().parent


@cache
def load_json(name: str) -> Any:
    """A JSON data file, read once per process."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


__all__ = ["DATA_DIR", "load_json"]
