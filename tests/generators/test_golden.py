"""Golden files: the exact output for the blue/green example and the showcase spec.

They are reviewed snapshots: a change to a template or a generator shows up here as a diff to
read. Rebuild them with ``UPDATE_SNAPSHOTS=1 pytest tests/generators/test_golden.py`` (the same
variable ``make snapshots`` sets) and review the diff before committing.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import ALL_TARGETS, render_files
from amlforge.specs.project_spec import load_spec
from tests.generators.conftest import EXAMPLES, SHOWCASE

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {"sklearn-blue-green": EXAMPLES / "sklearn-blue-green" / "amlforge.yaml", "showcase": SHOWCASE}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_the_golden_files(name: str) -> None:
    spec = CASES[name]
    # rendered as if written to <spec folder>/generated, the usual layout
    files = render_files(read_inputs(load_spec(spec), spec.parent / "generated"), ALL_TARGETS)
    folder = GOLDEN / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        shutil.rmtree(folder, ignore_errors=True)
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
    on_disk = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
               for p in sorted(folder.rglob("*")) if p.is_file()}
    assert sorted(on_disk) == sorted(files), "files differ: rebuild with UPDATE_SNAPSHOTS=1 and review"
    for rel, text in files.items():
        if on_disk[rel] != text:
            diff = "".join(difflib.unified_diff(on_disk[rel].splitlines(True), text.splitlines(True),
                                                f"golden/{name}/{rel}", "generated"))
            pytest.fail(f"{rel} differs from its golden file (UPDATE_SNAPSHOTS=1 rebuilds it):\n{diff}")
