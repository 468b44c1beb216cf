"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``amlforge`` command line in a subprocess (as a user would)."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("AMLFORGE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "amlforge", *args],
        cwd=cwd or ROOT, capture_output=True, text=True, input=input, timeout=timeout, env=env,
    )


@pytest.fixture
def cli():
    return run_cli
