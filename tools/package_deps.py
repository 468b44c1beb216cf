"""Write amlforge/data/package_deps.json: what installing a distribution brings along, read from
the distributions' own wheel metadata (Requires-Dist), not written by hand.

For each seed distribution and, recursively, what it requires, the script downloads the newest
wheel from PyPI (``pip download --no-deps --only-binary=:all:`` for CPython 3.11 on Linux x86_64),
reads ``Requires-Dist`` from its METADATA, keeps the requirements whose environment marker holds
on that platform without extras, and records the wheel it read. AML505 uses the result so that a
module an installed package brings in through its own dependencies (``mlflow`` through
``azureml-mlflow`` -> ``mlflow-skinny``) is not reported as missing.

Run: ``.venv/bin/python tools/package_deps.py`` (needs PyPI). Re-run when the seeds change or the
data is old; the file records the date and every wheel it read.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: Distributions whose dependencies provide modules that scoring scripts import directly.
SEEDS = ("azureml-mlflow", "mlflow-skinny", "azureml-ai-monitoring", "azure-ai-ml", "azureml-fsspec",
         "mltable", "datasets", "accelerate", "evaluate", "optimum")
#: How far to follow dependencies from a seed (a seed is depth 0).
MAX_DEPTH = 3
MARKER_ENV = {"python_version": "3.11", "python_full_version": "3.11.9", "sys_platform": "linux",
              "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
              "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
OUT = Path(__file__).resolve().parent.parent / "amlforge" / "data" / "package_deps.json"


def _wheel_requires(name: str, where: Path) -> tuple[str, list[str]] | None:
    """(wheel file name, required distribution names) of the newest wheel of ``name``."""
    target = where / canonicalize_name(name)
    target.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "--implementation", "cp",
         "-d", str(target), name],
        capture_output=True, text=True, timeout=300)
    wheels = sorted(target.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        print(f"  {name}: no wheel ({proc.stderr.strip().splitlines()[-1:] or ['?']})", file=sys.stderr)
        return None
    wheel = wheels[0]
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode("utf-8", "replace")
    requires = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(MARKER_ENV):
            continue
        requires.append(canonicalize_name(req.name))
    return wheel.name, sorted(set(requires))


def main() -> int:
    requires: dict[str, list[str]] = {}
    wheels: dict[str, str] = {}
    todo = [(canonicalize_name(s), 0) for s in SEEDS]
    with tempfile.TemporaryDirectory() as tmp:
        while todo:
            name, depth = todo.pop(0)
            if name in requires or name in wheels:
                continue
            print(f"{name} (depth {depth})", file=sys.stderr)
            got = _wheel_requires(name, Path(tmp))
            if got is None:
                wheels[name] = "(no wheel for CPython 3.11 on Linux x86_64)"
                continue
            wheels[name], requires[name] = got
            if depth < MAX_DEPTH:
                todo.extend((dep, depth + 1) for dep in got[1])
    data = {
        "source": ("Requires-Dist of the newest PyPI wheel of each distribution for CPython 3.11 on Linux "
                   "x86_64 (markers evaluated there, extras left out), read by tools/package_deps.py"),
        "generated": datetime.date.today().isoformat(),
        "seeds": list(SEEDS),
        "max_depth": MAX_DEPTH,
        "requires": dict(sorted(requires.items())),
        "wheels": dict(sorted(wheels.items())),
    }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(requires)} distributions)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
