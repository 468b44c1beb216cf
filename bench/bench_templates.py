"""How long ``amlforge lint`` takes on templates, as whole processes (a script, not a test).

    python bench/bench_templates.py [--runs 7]

1. A 2,000-line ARM template: the showcase spec's generated ``azuredeploy.json`` (6 deployments,
   assets, nested traffic deployments), its resources repeated under new endpoint names until the
   file has at least 2,000 lines, with its parameters file.
2. A 500-line Bicep file: the blue/green example's generated ``main.bicep``, repeated the same
   way, with a ``.bicepparam``.

Each is linted by a fresh ``amlforge`` process (interpreter start and imports included; bytecode
compiled, as an install has it); the median of ``--runs`` and the spread are printed. The
machine is shared (2 cores): figures vary by +-30 % from run to run.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lint import installed_env  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOWCASE = ROOT / "tests" / "generators" / "fixtures" / "showcase"
BLUE_GREEN = ROOT / "examples" / "sklearn-blue-green"


def _render(source: Path, out: Path) -> Path:
    from amlforge.generators.inputs import read_inputs
    from amlforge.generators.pipeline import render_files
    from amlforge.specs.project_spec import load_spec

    folder = out / source.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("generated"))
    files = render_files(read_inputs(load_spec(folder / "amlforge.yaml"), folder / "generated"), ("arm", "bicep"))
    for rel, text in files.items():
        (folder / "generated" / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / "generated" / rel).write_text(text)
    return folder / "generated"


def big_arm(base: Path, lines: int) -> Path:
    generated = _render(SHOWCASE, base)
    template = json.loads((generated / "arm" / "azuredeploy.json").read_text())
    original = template["resources"]
    copies, i = [], 0
    while True:
        text = json.dumps(original)
        copies.extend(json.loads(re.sub(r"showcase-(managed|k8s)", rf"showcase-\g<1>-{i}", text)))
        template["resources"] = copies
        rendered = json.dumps(template, indent=2)
        if rendered.count("\n") + 1 >= lines:
            break
        i += 1
    path = base / "big" / "azuredeploy.json"
    path.parent.mkdir(parents=True)
    path.write_text(rendered + "\n")
    (base / "big" / "azuredeploy.parameters.json").write_text(
        (generated / "arm" / "azuredeploy.parameters.json").read_text())
    return path


def big_bicep(base: Path, lines: int) -> Path:
    generated = _render(BLUE_GREEN, base)
    main = (generated / "bicep" / "main.bicep").read_text()
    head, _, body = main.partition("resource ws ")
    body = "resource ws " + body
    parts = [head]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        chunk = re.sub(r"\b(endpoint|deployment|traffic|env|code|model|environments|codes|models)_", rf"\g<1>{i}_", body)
        chunk = chunk.replace("resource ws ", f"resource ws{i} ").replace("parent: ws\n", f"parent: ws{i}\n")
        chunk = chunk.replace("'sklearn-iris-bg'", f"'sklearn-iris-bg-{i}'").replace("${ws.id}", f"${{ws{i}.id}}")
        parts.append(chunk)
        i += 1
    folder = base / "bigbicep"
    folder.mkdir()
    shutil.copy(generated / "bicep" / "endpoint-traffic.bicep", folder)
    path = folder / "main.bicep"
    path.write_text("".join(parts))
    (folder / "main.bicepparam").write_text("using 'main.bicep'\n\nparam workspaceName = 'ws-bench'\n")
    return path


def whole_process(path: Path, runs: int) -> tuple[list[float], subprocess.CompletedProcess]:
    exe = Path(sys.executable).with_name("amlforge")
    env = installed_env()
    times, last = [], None
    for _ in range(runs):
        t = time.perf_counter()
        last = subprocess.run([str(exe), "lint", str(path), "--format", "json"], capture_output=True, text=True,
                              cwd=path.parent, env=env)
        times.append(time.perf_counter() - t)
    assert last is not None
    return times, last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="amlforge-bench-templates-"))
    try:
        for label, path in (("ARM", big_arm(base, 2000)), ("Bicep", big_bicep(base, 500))):
            times, result = whole_process(path, args.runs)
            findings = json.loads(result.stdout) if result.stdout.strip().startswith("[") else []
            lines = path.read_text().count("\n")
            print(f"{label}: {lines} lines, exit {result.returncode}, {len(findings)} findings; "
                  f"median {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
                  f"({args.runs} runs, whole process)")
            if result.returncode not in (0, 1):
                print(result.stderr[:2000])
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
