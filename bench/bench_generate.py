"""How long ``amlforge generate`` takes for 100 projects (a script, not a test).

    python bench/bench_generate.py [--projects 100] [--keep]

Makes N projects in a temporary folder (half copies of the blue/green example, half of the
showcase spec in tests/generators/fixtures: 6 deployments, a Kubernetes endpoint, a Dockerfile
environment), each with its own names, then runs the whole pipeline on each in one process:
load and validate the spec, read the conda files, render az-ml YAML, ARM, Bicep and
Dockerfiles, lint the YAML (the self-check) and write the files atomically. No conda locking.
Prints the total (the target is under 2 s for 100 projects) and where the time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

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
        files = refused = 0
        for spec in specs:
            result = pipeline.generate_project(spec, spec.parent / "generated")
            files += len(result.files)
            refused += result.refused
        total = time.perf_counter() - started

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
            pipeline.generate_project(spec, spec.parent / "generated")
        unchanged = time.perf_counter() - t

        n = len(specs)
        print(f"amlforge generate, {n} projects, {files} files, one process, no conda locking")
        print(f"  total            {total:6.2f} s   ({total / n * 1000:5.1f} ms per project; target < "
              f"{TARGET_SECONDS:.0f} s for 100){'' if refused == 0 else f'  {refused} REFUSED'}")
        print(f"    imports        {imported - started:6.2f} s")
        print("  of which, each step timed again on its own:")
        print(f"    load + inputs  {phases['load']:6.2f} s   (read and validate the spec, read the conda files)")
        print(f"    render         {phases['render']:6.2f} s   (az-ml YAML, ARM, Bicep, Dockerfiles)")
        print(f"    self-check     {phases['self-check']:6.2f} s   (render for a temporary folder, write, lint)")
        print(f"    write          {phases['write']:6.2f} s   (write_files_atomic: temporary files, then renames)")
        print(f"  unchanged rerun  {unchanged:6.2f} s   (everything up to date: nothing written)")
        print(f"  cpu count        {os.cpu_count()}")
        if args.keep:
            print(f"  projects kept in {base}")
        return 0 if total < TARGET_SECONDS * n / 100 and refused == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
