"""Benchmark ``amlforge lock``: cold lock time vs cache-hit time, and their ratio.

A script, not a test. It builds the test suite's tiny local conda channel in a temporary
directory, then for each environment:

* **cold**: lock with no lock files present (conda-lock + the embedded py-rattler solver,
  a subprocess), repeated ``--repeat`` times with the lock files deleted in between;
* **cache hit, in-process**: :func:`lock_conda_file` on the unchanged environment
  (reads the pinned file header and hashes the inputs; conda-lock is not started);
* **cache hit, CLI**: ``python -m amlforge lock conda.yaml`` as a whole process
  (interpreter start-up included), which is what a user or CI sees.

Usage::

    python bench/bench_lock.py [--repeat 3] [--hits 50] [--no-pip] [--azureml]

The ``conda + pip`` row resolves one small package against the PyPI index pip is
configured with (network); ``--no-pip`` skips it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integrations"))

from conda_channel import build_channel  # noqa: E402

from amlforge.integrations.condalock import (  # noqa: E402
    LockPaths,
    conda_lock_version,
    lock_conda_file,
    lock_paths,
    resolve_solver,
)

ENVIRONMENTS: dict[str, tuple[list[str], list[str] | None]] = {
    "conda-only (scikit-learn stack)": (["python=3.11", "numpy<2", "scikit-learn"], None),
    "conda + pip (one PyPI package)": (["python=3.11", "pip", "numpy<2"], ["six"]),
}
#: A realistic Azure ML scoring environment (about 50 pip packages); ``--azureml``.
AZUREML = ("conda + Azure ML inference server",
           (["python=3.11", "pip", "numpy<2", "scikit-learn"],
            ["azureml-inference-server-http", "inference-schema[numpy-support]", "joblib"]))


def write_env(path: Path, channel: str, deps: list[str], pip: list[str] | None) -> Path:
    """Write a conda file."""
    lines = ["name: bench", "channels:", f"  - {channel}", "dependencies:"]
    lines += [f"  - {d}" for d in deps]
    if pip:
        lines += ["  - pip:"] + [f"      - {p}" for p in pip]
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(fn: Callable[[], object], times: int) -> list[float]:
    """Wall times of ``times`` calls of ``fn``."""
    out = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def fmt(seconds: float) -> str:
    """Seconds as ``1.23 s`` or ``4.5 ms``."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def main() -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold locks per environment")
    parser.add_argument("--hits", type=int, default=50, help="in-process cache hits")
    parser.add_argument("--cli-hits", type=int, default=5, help="CLI cache-hit runs")
    parser.add_argument("--no-pip", action="store_true", help="skip the PyPI environments")
    parser.add_argument("--azureml", action="store_true",
                        help="add an Azure ML inference-server environment (tens of seconds)")
    args = parser.parse_args()
    environments = dict(ENVIRONMENTS)
    if args.azureml:
        environments[AZUREML[0]] = AZUREML[1]

    with tempfile.TemporaryDirectory(prefix="amlforge-bench-lock-") as tmp:
        work = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # cold poetry cache at first
        channel = build_channel(work / "channel")
        solver = resolve_solver("embedded")
        print(f"amlforge lock benchmark: conda-lock {conda_lock_version()}, "
              f"solver {solver.describe()}, Python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs")
        print(f"{'environment':34} {'cold lock (min..max)':>23} {'hit (in-process)':>18} "
              f"{'hit (CLI process)':>18} {'ratio':>9} {'ratio (CLI)':>12}")
        for label, (deps, pip) in environments.items():
            if pip and args.no_pip:
                continue
            env_dir = work / f"env{len(list(work.glob('env*')))}"
            env_dir.mkdir()
            conda_file = write_env(env_dir / "conda.yaml", channel, deps, pip)
            paths = lock_paths(conda_file)

            def cold(conda_file: Path = conda_file, paths: LockPaths = paths) -> None:
                for p in (paths.lockfile, paths.pinned_file):
                    p.unlink(missing_ok=True)
                result = lock_conda_file(conda_file, solver="embedded")
                assert result.action == "locked"

            try:
                colds = timed(cold, args.repeat)
            except Exception as exc:  # noqa: BLE001 - e.g. no network for the pip row
                print(f"{label:34} failed: {exc}")
                continue

            def hit(conda_file: Path = conda_file) -> None:
                assert lock_conda_file(conda_file, solver="embedded").action == "cached"

            hits = timed(hit, args.hits)

            def cli_hit(conda_file: Path = conda_file) -> None:
                subprocess.run([sys.executable, "-m", "amlforge", "lock", str(conda_file)],
                               check=True, capture_output=True)

            cli_hits = timed(cli_hit, args.cli_hits)
            cold_s, hit_s, cli_s = (statistics.median(x) for x in (colds, hits, cli_hits))
            spread = f"{fmt(min(colds))}..{fmt(max(colds))}"
            print(f"{label:34} {fmt(cold_s):>8} ({spread:>12}) {fmt(hit_s):>18} "
                  f"{fmt(cli_s):>18} {cold_s / hit_s:>8.0f}x {cold_s / cli_s:>11.1f}x")
        print("medians; cold runs after the first reuse the poetry HTTP cache (pip row).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
