"""Start-up of a one-file lint, side by side with its floor (a benchmark, not a test).

The floor is what any pydantic + PyYAML tool pays: ``python -c "from pydantic import BaseModel;
import yaml"`` plus one small model validated from YAML. The goal (issue 14) is a one-file
``amlforge lint`` as a whole process within 1.3x of it. Both run as installed code runs:
bytecode compiled (``compileall``, as pip does at install time) and without
PYTHONDONTWRITEBYTECODE; runs alternate, so machine load hits both alike; medians are reported.

A second floor gives the same script amlforge's garbage-collector settings (``amlforge.cli``:
a higher young-generation threshold and ``gc.freeze()`` before exit), so that the ratio of
amlforge's own work is visible apart from what any Python tool could save that way.

Run: ``.venv/bin/python bench/bench_startup.py [--runs N] [--importtime]``. ``--importtime``
prints the slowest imports of the lint process (``python -X importtime``), to find the cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_lint import DEPLOYMENT, ENDPOINT, installed_env  # noqa: E402

FLOOR = (
    "from pydantic import BaseModel\n"
    "import yaml\n"
    "class Deployment(BaseModel):\n"
    "    name: str\n"
    "    endpoint_name: str\n"
    "    instance_type: str\n"
    "    instance_count: int\n"
    "Deployment.model_validate(yaml.safe_load(open({path!r}).read()), strict=False)\n"
)


def floor_with_gc(path: Path) -> str:
    """The floor with the garbage-collector settings of amlforge's entry point."""
    from amlforge.cli import GC_THRESHOLD

    return f"import gc\ngc.set_threshold{GC_THRESHOLD!r}\n" + FLOOR.format(path=str(path)) + "gc.freeze()\n"


def corpus(folder: Path) -> Path:
    """One deployment file (and its endpoint, its score.py) as bench_lint writes them."""
    (folder / "src").mkdir()
    (folder / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    (folder / ".amlforge.toml").write_text("")
    (folder / "endpoint.yml").write_text(ENDPOINT.format(ep=0))
    path = folder / "deploy.yml"
    path.write_text(DEPLOYMENT.format(i=0, ep=0, version=1, sku="Standard_D4as_v4", count=3, timeout=5000))
    return path


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    return time.perf_counter() - t


def importtime(cmd: list[str], cwd: Path, env: dict[str, str], top: int = 25) -> str:
    """The ``top`` imports with the largest cumulative time (top-level packages only)."""
    out = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], cwd=cwd, env=env, capture_output=True, text=True).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line.split(":", 1)[1].split("|", 2)
        rows.append((int(cumulative), int(self_us), name.rstrip()))
    rows.sort(reverse=True)
    return "\n".join(f"  {c / 1000:7.1f} ms cumulative {s / 1000:6.1f} ms self  {n}" for c, s, n in rows[:top])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    env = installed_env()
    exe = str(Path(sys.executable).with_name("amlforge"))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = corpus(folder)
        floor_cmd = [sys.executable, "-c", FLOOR.format(path=str(path))]
        floor_gc_cmd = [sys.executable, "-c", floor_with_gc(path)]
        lint_cmd = [exe, "lint", path.name]
        check = subprocess.run(lint_cmd, cwd=folder, env=env, capture_output=True, text=True)
        print(f"amlforge lint {path.name}: exit {check.returncode}; {check.stdout.strip().splitlines()[-1]}")
        subprocess.run(floor_cmd, cwd=folder, env=env, check=True, capture_output=True)
        subprocess.run(floor_gc_cmd, cwd=folder, env=env, check=True, capture_output=True)
        for cmd in (floor_cmd, floor_gc_cmd, lint_cmd):  # warm the page cache
            timed(cmd, folder, env)
        floor, floor_gc, lint = [], [], []
        for _ in range(args.runs):
            floor.append(timed(floor_cmd, folder, env))
            floor_gc.append(timed(floor_gc_cmd, folder, env))
            lint.append(timed(lint_cmd, folder, env))
        f, fg, li = statistics.median(floor), statistics.median(floor_gc), statistics.median(lint)
        print(f"floor  (pydantic + yaml + one model validation): median {1000 * f:.0f} ms, min {1000 * min(floor):.0f} ms")
        print(f"floor with amlforge's gc settings:               median {1000 * fg:.0f} ms, min {1000 * min(floor_gc):.0f} ms")
        print(f"amlforge lint one file (whole process):         median {1000 * li:.0f} ms, min {1000 * min(lint):.0f} ms")
        print(f"ratio: {li / f:.2f}x the floor (median), {min(lint) / min(floor):.2f}x (min); goal <= 1.3x; "
              f"{args.runs} alternating runs, bytecode compiled")
        print(f"       {li / fg:.2f}x the floor with the same gc settings (median), {min(lint) / min(floor_gc):.2f}x (min)")
        if args.importtime:
            print("slowest imports of the lint process (python -X importtime):")
            print(importtime([sys.executable, "-m", "amlforge", "lint", path.name], folder, env))


if __name__ == "__main__":
    main()
