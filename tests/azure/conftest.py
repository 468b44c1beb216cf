"""Fixtures of the live-Azure tests: a loopback ARM emulator per test, and a generated project.

Every request goes to the emulator on 127.0.0.1 (the static test token, never
DefaultAzureCredential, so no credential probes the network either).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.azure.arm_emulator import RESOURCE_GROUP, SUBSCRIPTION, TOKEN, Emulator
from tests.conftest import EXAMPLES, ROOT

EXAMPLE = "sklearn-blue-green"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(tmp_path / "emulator-cert", lifetime=90.0).start()
    try:
        yield emu
    finally:
        emu.stop()


def azure_env(emu: Emulator, **extra: str) -> dict[str, str]:
    """The environment of a CLI run against ``emu``: its endpoint, its CA, the test token, no proxy."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "AMLFORGE_")) and k.upper() not in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")}
    env.update({
        "NO_COLOR": "1",
        "AMLFORGE_AZURE_TOKEN": TOKEN,
        "AMLFORGE_ARM_ENDPOINT": emu.endpoint,
        "REQUESTS_CA_BUNDLE": str(emu.ca_path),
        "CURL_CA_BUNDLE": str(emu.ca_path),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    env.update(extra)
    return env


def run_amlforge(emu: Emulator, *args: str, cwd: Path | None = None, timeout: float = 60,
                 **extra: str) -> subprocess.CompletedProcess:
    """``amlforge ARGS`` in a subprocess, as a user runs it, against the emulator."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "amlforge", *args], cwd=cwd or ROOT, capture_output=True,
                            text=True, timeout=timeout, env=azure_env(emu, **extra))
    result.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr, result.stderr
    return result


#: Options that point a command at the emulator's subscription and group, polling fast.
TARGET = ("--subscription", SUBSCRIPTION, "--resource-group", RESOURCE_GROUP, "--poll-interval", "0.05")


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example with 'amlforge generate' output in generated/ (az-ml YAML and ARM)."""
    root = tmp_path_factory.mktemp("azure-project") / EXAMPLE
    shutil.copytree(EXAMPLES / EXAMPLE, root)
    result = subprocess.run([sys.executable, "-m", "amlforge", "generate", str(root / "amlforge.yaml"), "-o",
                             str(root / "generated")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def template(project: Path) -> Path:
    return project / "generated" / "arm" / "azuredeploy.json"
