"""Python and notebook reading performance (a benchmark, not a test).

Lints a generated tree of 400 notebooks and 100 ``.py`` files (half deployment scripts that use
azure-ai-ml, half ``score.py`` files that do not) as one process. Goal: <= 2 s on this machine.
Each notebook has a markdown cell, ``%pip``/``!az`` lines, constants, an endpoint, a deployment
with an inline environment and conda dict, traffic set after the fact, and a 40 KB PNG output
(never decoded).

Run: ``make bench`` or ``.venv/bin/python bench/bench_sdk.py [--notebooks N] [--scripts M] [--runs K]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lint import installed_env  # noqa: E402

SKUS = ["Standard_DS3_v2", "Standard_F4s_v2", "Standard_E4s_v3", "Standard_D4as_v4", "Standard_F8s_v2"]

SETUP = """\
from azure.ai.ml import MLClient
from azure.ai.ml.entities import (
    ManagedOnlineEndpoint, ManagedOnlineDeployment, Environment, CodeConfiguration, Model,
    ProbeSettings, OnlineRequestSettings,
)
from azure.identity import DefaultAzureCredential

ENDPOINT = "bench-endpoint-{i:04d}"
SKU = "{sku}"
COUNT = {count}
"""

DEPLOY = """\
ml_client = MLClient.from_config(credential=DefaultAzureCredential())
endpoint = ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key", description=f"bench {{ENDPOINT}}")
ml_client.online_endpoints.begin_create_or_update(endpoint).result()
env = Environment(
    image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:20240709.v1",
    conda_file={{"channels": ["conda-forge"], "dependencies": ["python=3.10", "pip",
                {{"pip": ["azureml-inference-server-http==1.3.2", "scikit-learn==1.5.{n}"]}}]}},
)
blue = ManagedOnlineDeployment(
    name="blue",
    endpoint_name=ENDPOINT,
    model=Model(path="model"),
    environment=env,
    code_configuration=CodeConfiguration(code="src", scoring_script="score.py"),
    instance_type=SKU,
    instance_count=COUNT,
    request_settings=OnlineRequestSettings(request_timeout_ms={timeout}),
    liveness_probe=ProbeSettings(initial_delay=30, period=10, failure_threshold=30),
)
ml_client.online_deployments.begin_create_or_update(blue).result()
endpoint.traffic = {{"blue": 100}}
ml_client.online_endpoints.begin_create_or_update(endpoint).result()
"""

PNG = base64.b64encode(os.urandom(30_000)).decode()


def _cell(kind: str, text: str, outputs: list | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=outputs or [])
    return cell


def make_corpus(root: Path, notebooks: int, scripts: int) -> None:
    (root / ".git").mkdir(parents=True)
    for i in range(notebooks):
        folder = root / f"nb-{i // 20:02d}"
        if not folder.exists():
            folder.mkdir()
            (folder / "src").mkdir()
            (folder / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
            (folder / "model").mkdir()
            (folder / "model" / "model.pkl").write_bytes(b"x" * 1000)
        fields = dict(i=i, sku=SKUS[i % len(SKUS)], count=3 + i % 3, n=i % 9, timeout=5000 + 100 * (i % 50))
        cells = [
            _cell("markdown", f"# Deploy model {i}\nThis notebook deploys a model.\n"),
            _cell("code", "%pip install azure-ai-ml azure-identity\n!az login --identity\n"),
            _cell("code", SETUP.format(**fields)),
            _cell("code", DEPLOY.format(**fields), outputs=[{"output_type": "display_data", "metadata": {},
                                                              "data": {"image/png": PNG, "text/plain": ["<Figure>"]}}]),
        ]
        nb = {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
              "nbformat": 4, "nbformat_minor": 5}
        (folder / f"deploy-{i:04d}.ipynb").write_text(json.dumps(nb, indent=1))
    for j in range(scripts):
        folder = root / f"py-{j // 10:02d}"
        folder.mkdir(exist_ok=True)
        if j % 2:
            (folder / f"score_{j}.py").write_text("import json\n\n\ndef init():\n    pass\n\n\ndef run(raw):\n"
                                                  "    return json.loads(raw)\n" * 3)
        else:
            fields = dict(i=1000 + j, sku=SKUS[j % len(SKUS)], count=3, n=j % 9, timeout=5000)
            (folder / "src").mkdir(exist_ok=True)
            (folder / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
            (folder / "model").mkdir(exist_ok=True)
            (folder / "model" / "model.pkl").write_bytes(b"x")
            (folder / f"deploy_{j}.py").write_text(SETUP.format(**fields) + DEPLOY.format(**fields))


def in_process(root: Path, repeats: int) -> tuple[float, int, int, int]:
    code = (
        "import sys, time\n"
        "from amlforge.policies.engine import lint_paths\n"
        "lint_paths([sys.argv[1]], root=sys.argv[1])  # warm-up\n"
        "best = 1e9\n"
        f"for _ in range({repeats}):\n"
        "    t = time.perf_counter(); r = lint_paths([sys.argv[1]], root=sys.argv[1]); best = min(best, time.perf_counter() - t)\n"
        "print(best, len(r.project.deployments), len(r.findings), len(r.project.documents))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True).stdout
    seconds, deployments, findings, documents = out.split()
    return float(seconds), int(deployments), int(findings), int(documents)


def whole_process(root: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run; on a shared machine the CPU time
    is the steadier figure."""
    import resource

    exe = Path(sys.executable).with_name("amlforge")
    env = installed_env()
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([str(exe), "lint", str(root)], capture_output=True, cwd=root, env=env)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=400)
    parser.add_argument("--scripts", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_corpus(root, args.notebooks, args.scripts)
        size = sum(p.stat().st_size for p in root.rglob("*.ipynb")) / 1_048_576
        times, cpu = whole_process(root, args.runs)
        median = statistics.median(times)
        print(f"1. `amlforge lint` of {args.notebooks} notebooks ({size:.0f} MiB) and {args.scripts} .py files, "
              f"whole process: median {median:.2f} s, min {min(times):.2f} s over {args.runs} runs (goal <= 2 s); "
              f"{args.notebooks / median:.0f} notebooks per second")
        print(f"   CPU time (user + system): median {statistics.median(cpu):.2f} s, min {min(cpu):.2f} s; "
              f"{args.notebooks / min(cpu):.0f} notebooks per CPU second")
        seconds, deployments, findings, documents = in_process(root, 3)
        print(f"2. in one warm process: {seconds:.2f} s for {deployments} deployments ({documents} documents, "
              f"{findings} findings); {args.notebooks / seconds:.0f} notebooks per second")


if __name__ == "__main__":
    main()
