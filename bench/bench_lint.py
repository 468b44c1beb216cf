"""Lint performance: figures and ratios against azure-ai-ml (a benchmark, not a test).

Measures, on this machine:
1. linting 1,000 deployment YAMLs (plus their endpoint) in one process (target: < 1 s with the
   foundation rules, < 2 s with the whole catalog);
2. ``amlforge lint one.yml`` as a whole process, median of repeated runs (target: < 300 ms);
3. the same 1,000 files loaded by azure-ai-ml's official loaders, and the ratio.

Run: ``make bench`` or ``.venv/bin/python bench/bench_lint.py [--files N] [--runs K]``.
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
SKUS = ["Standard_DS3_v2", "Standard_F4s_v2", "Standard_E4s_v3", "Standard_D4as_v4", "Standard_F8s_v2"]

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: dep-{i:04d}
endpoint_name: bench-endpoint-{ep:02d}
model: azureml:bench-model:{version}
environment: azureml:bench-env:3
code_configuration:
  code: ./src
  scoring_script: score.py
instance_type: {sku}
instance_count: {count}
environment_variables:
  WORKER_COUNT: "2"
request_settings:
  request_timeout_ms: {timeout}
  max_concurrent_requests_per_instance: 2
liveness_probe:
  initial_delay: 30
  period: 10
  timeout: 2
  failure_threshold: 30
readiness_probe:
  initial_delay: 30
  period: 10
  timeout: 2
  failure_threshold: 10
tags:
  team: bench
  cost-center: "{i}"
"""

ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: bench-endpoint-{ep:02d}
auth_mode: key
"""


def make_corpus(folder: Path, n: int) -> list[Path]:
    """Write n deployment files spread over endpoints of up to 20 deployments each."""
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    (folder / ".amlforge.toml").write_text("")
    files = []
    endpoints = (n + 19) // 20
    for ep in range(endpoints):
        (folder / f"endpoint-{ep:02d}.yml").write_text(ENDPOINT.format(ep=ep))
    for i in range(n):
        path = folder / f"deploy-{i:04d}.yml"
        path.write_text(DEPLOYMENT.format(i=i, ep=i // 20, version=1 + i % 7, sku=SKUS[i % len(SKUS)],
                                          count=3 + i % 3, timeout=5000 + 100 * (i % 50)))
        files.append(path)
    return files


def in_process(folder: Path, repeats: int) -> tuple[float, int]:
    code = (
        "import sys, time\n"
        "from amlforge.policies.engine import lint_paths\n"
        "lint_paths([sys.argv[1]], root=sys.argv[1])  # warm-up: imports, schema build, catalog\n"
        "best = 1e9\n"
        f"for _ in range({repeats}):\n"
        "    t = time.perf_counter(); r = lint_paths([sys.argv[1]], root=sys.argv[1]); best = min(best, time.perf_counter() - t)\n"
        "print(best, len(r.project.deployments), len(r.findings))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True).stdout
    seconds, deployments, _ = out.split()
    return float(seconds), int(deployments)


def installed_env() -> dict[str, str]:
    """The environment of an installed amlforge: bytecode compiled, as pip does at install time.

    A shell with PYTHONDONTWRITEBYTECODE=1 (some sandboxes and CI images set it) makes every
    process compile every module from source again, which measures the shell, not amlforge.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    import amlforge

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(amlforge.__file__).parent)],
                   env=env, capture_output=True, check=True)
    return env


def whole_process(path: Path, runs: int) -> list[float]:
    exe = Path(sys.executable).with_name("amlforge")
    env = installed_env()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(exe), "lint", str(path)], capture_output=True, cwd=path.parent, env=env)
        times.append(time.perf_counter() - t)
    return times


def azure_ai_ml(files: list[Path]) -> tuple[float, float] | None:
    code = (
        "import sys, time, warnings, logging\n"
        "warnings.filterwarnings('ignore'); logging.disable(logging.CRITICAL)\n"
        "t = time.perf_counter()\n"
        "from azure.ai.ml import load_online_deployment\n"
        "imp = time.perf_counter() - t\n"
        "files = sys.argv[1:]\n"
        "t = time.perf_counter()\n"
        "for f in files: load_online_deployment(f)\n"
        "print(imp, time.perf_counter() - t)\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lst:
        lst.write("\n".join(str(f) for f in files))
    try:
        proc = subprocess.run([sys.executable, "-c", code.replace("sys.argv[1:]", f"open({lst.name!r}).read().split()")],
                              capture_output=True, text=True)
    finally:
        os.unlink(lst.name)
    if proc.returncode != 0:
        print("  azure-ai-ml not available:", proc.stderr.strip().splitlines()[-1:] or "?")
        return None
    imp, load = proc.stdout.split()
    return float(imp), float(load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_corpus(folder, args.files)
        seconds, deployments = in_process(folder, args.repeats)
        per_file_ms = 1000 * seconds / deployments
        print(f"1. lint {deployments} deployments in one process: {seconds:.3f} s "
              f"({per_file_ms:.2f} ms per file; best of {args.repeats}; target < 1 s foundation, < 2 s all rules)")
        times = whole_process(files[0], args.runs)
        print(f"2. `amlforge lint one.yml` whole process: median {1000 * statistics.median(times):.0f} ms, "
              f"min {1000 * min(times):.0f} ms over {args.runs} runs (target < 300 ms; bytecode compiled, "
              "as after pip install)")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("   note: this shell sets PYTHONDONTWRITEBYTECODE; the runs above unset it, as an install would be")
        sdk = azure_ai_ml(files)
        if sdk is not None:
            imp, load = sdk
            print(f"3. azure-ai-ml: import {imp:.2f} s, load_online_deployment x {len(files)}: {load:.2f} s "
                  f"({1000 * load / len(files):.2f} ms per file)")
            print(f"   ratio: amlforge lints {load / seconds:.1f}x faster than azure-ai-ml loads "
                  f"({(imp + load) / seconds:.1f}x counting its import); one-file process vs azure-ai-ml import "
                  f"alone: {imp / statistics.median(times):.1f}x")


if __name__ == "__main__":
    main()
