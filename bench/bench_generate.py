"""How long ``amlforge generate`` takes for 100 projects (a script, not a test).

    python bench/bench_generate.py [--projects 100] [--repeat 5] [--processes 20] [--keep]

Makes N projects in a temporary folder (half copies of the blue/green example, half of the
showcase spec in tests/generators/fixtures: 6 deployments, a Kubernetes endpoint, a Dockerfile
environment), each with its own names. Every run does the whole pipeline for each: load and
validate the spec, read the conda files, render az-ml YAML, ARM, Bicep and Dockerfiles, lint
the YAML in memory (the self-check) and write the files atomically. No conda locking.

1. The target (under 2 s for 100 projects): ``amlforge generate`` over all N specs in one
   process, as pre-commit or a monorepo CI job runs it, timed from outside (interpreter start
   and imports included; bytecode compiled, as an install has it).
2. For the ratio: one ``amlforge generate`` process per spec, over the first few.
3. The library in this process: ``--repeat`` runs, each into fresh output folders (a first
   generation, not an up-to-date rerun), then each step timed on its own. This shared 2-core
   machine varies by +-30% from run to run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lint import installed_env  # noqa: E402  (bytecode compiled, as an install has it)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "examples" / "sklearn-blue-green", ROOT / "tests" / "generators" / "fixtures" / "showcase"]
TARGET_SECONDS = 2.0


def make_projects(base: Path, count: int) -> list[Path]:
    """``count`` project folders, each with a spec whose endpoint names are its own."""
    specs = []
    for i in range(count):
        source = SOURCES[i % len(SOURCES)]
        folder = base / f"project-{i:03d}"
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.yml", "train.py", "README.md", "generated"))
        (folder / "pyproject.toml").write_text("")
        spec = folder / "amlforge.yaml"
        text = spec.read_text()
        for name in ("sklearn-iris-bg", "showcase-managed", "showcase-k8s"):
            text = text.replace(name, f"{name[:20]}-{i:03d}")
        text = text.replace("instance_count: 3", f"instance_count: {1 + i % 5}")
        spec.write_text(text)
        specs.append(spec)
    return specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="whole runs, each into fresh output folders")
    parser.add_argument("--processes", type=int, default=20, help="specs run one process each (for the ratio)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print it")
    args = parser.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="amlforge-bench-"))
    try:
        specs = make_projects(base, args.projects)
        started = time.perf_counter()
        from amlforge.generators import pipeline
        from amlforge.generators.inputs import read_inputs
        from amlforge.specs.project_spec import load_spec

        imported = time.perf_counter()
        totals = []
        for run in range(max(1, args.repeat)):
            files = refused = 0
            t = time.perf_counter()
            for spec in specs:
                result = pipeline.generate_project(spec, spec.parent / f"generated-{run}")
                files += len(result.files)
                refused += result.refused
            totals.append(time.perf_counter() - t)
        cold = imported - started + totals[0]  # the library in a fresh process: imports and first run

        # the command line: one process over every spec (as pre-commit or a monorepo CI job runs
        # it), then one process per spec (as a loop in a shell script would)
        env = installed_env()
        exe = str(Path(sys.executable).with_name("amlforge"))
        relative = [str(spec.relative_to(base)) for spec in specs]
        t = time.perf_counter()
        cli = subprocess.run([exe, "generate", *relative, "-o", "generated-cli"], cwd=base, env=env,
                             capture_output=True, text=True)
        one_process = time.perf_counter() - t
        if cli.returncode != 0:
            print(cli.stderr[-2000:], file=sys.stderr)
        per_spec = []
        for spec in relative[: args.processes]:
            t = time.perf_counter()
            subprocess.run([exe, "generate", spec, "-o", str(Path(spec).parent / "generated-each")], cwd=base,
                           env=env, capture_output=True, check=True)
            per_spec.append(time.perf_counter() - t)

        # where the time goes, each step measured again on its own over the same projects
        phases: dict[str, float] = {}
        t = time.perf_counter()
        inputs = [(read_inputs(loaded := load_spec(spec), spec.parent / "generated"), loaded) for spec in specs]
        phases["load"] = time.perf_counter() - t
        t = time.perf_counter()
        for inp, _ in inputs:
            pipeline.render_files(inp)
        phases["render"] = time.perf_counter() - t
        t = time.perf_counter()
        for inp, loaded in inputs:
            pipeline.self_check(inp, loaded.folder, loaded.folder / "generated")
        phases["self-check"] = time.perf_counter() - t
        from amlforge.generators.writer import write_files_atomic

        rendered = [pipeline.render_files(inp) for inp, _ in inputs]
        t = time.perf_counter()
        for i, files_of in enumerate(rendered):  # as generate writes: one batch per project
            write_files_atomic({base / "write-check" / str(i) / rel: text for rel, text in files_of.items()})
        phases["write"] = time.perf_counter() - t
        t = time.perf_counter()
        for spec in specs:  # a second run: everything is up to date, nothing is written
            pipeline.generate_project(spec, spec.parent / "generated-0")
        unchanged = time.perf_counter() - t

        n = len(specs)
        print(f"amlforge generate, {n} projects, {files} files, no conda locking")
        each = statistics.median(per_spec)
        print(f"  one CLI process  {one_process:6.2f} s   (amlforge generate SPEC x{n}; {one_process / n * 1000:.1f} ms "
              f"per project; target < {TARGET_SECONDS:.0f} s for 100){'' if cli.returncode == 0 else '  FAILED'}")
        print(f"  a process each   {each * n:6.2f} s   ({each * 1000:.0f} ms per spec, median of {len(per_spec)}: "
              f"{each * n / one_process:.0f}x, all interpreter start and imports)")
        print(f"  library, 1st run {cold:6.2f} s   (in this process: imports {imported - started:.2f} s, loading the "
              f"rule catalog, compiling the templates){'' if refused == 0 else f'  {refused} REFUSED'}")
        print(f"  later runs       {statistics.median(totals[1:] or totals):6.2f} s median of {max(1, len(totals) - 1)} "
              f"({min(totals[1:] or totals):.2f} s fastest, {max(totals[1:] or totals):.2f} s slowest)")
        print("  of which, each step timed again on its own:")
        print(f"    load + inputs  {phases['load']:6.2f} s   (read and validate the spec, read the conda files)")
        print(f"    render         {phases['render']:6.2f} s   (az-ml YAML, ARM, Bicep, Dockerfiles)")
        print(f"    self-check     {phases['self-check']:6.2f} s   (lint the rendered az-ml YAML in memory)")
        print(f"    write          {phases['write']:6.2f} s   (write_files_atomic: temporary files, then renames)")
        print(f"  unchanged rerun  {unchanged:6.2f} s   (everything up to date: nothing written)")
        print(f"  cpu count        {os.cpu_count()}")
        if args.keep:
            print(f"  projects kept in {base}")
        ok = one_process < TARGET_SECONDS * n / 100 and cli.returncode == 0 and refused == 0
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
