"""The notebook reader: code cells read in order as Python, located by cell; bad input reported."""

from __future__ import annotations

import json
from pathlib import Path

from amlforge.policies.engine import lint_paths
from amlforge.readers.base import LoadOptions
from amlforge.readers.notebook import NotebookReader, python_lines
from amlforge.reporters import github_report, sarif_report

IMPORTS = "from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint\n"


def _notebook(tmp_path: Path, cells: list[tuple[str, str]], name: str = "deploy.ipynb", **meta) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    nb = {
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": meta or {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path = tmp_path / name
    path.write_text(json.dumps(nb, indent=1))
    return path


def _deployment(sku: str = "Standard_DS3_v9", trailer: str = "") -> str:
    return ('blue = ManagedOnlineDeployment(\n    name="blue",\n    endpoint_name=ENDPOINT,\n'
            f'    instance_type="{sku}",{trailer}\n    instance_count=1,\n)\n')


def test_names_flow_across_cells_and_findings_name_the_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [
        ("markdown", "# Deploy\n"),
        ("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n'),
        ("code", "%pip install azure-ai-ml\n!az login\nfiles = !ls\n"),
        ("code", "%%bash\necho {not python\n"),
        ("code", _deployment()),
    ])
    report = lint_paths([path])
    [f] = [f for f in report.findings if f.rule == "AML201"]
    assert (f.location.cell, f.location.line, f.location.column) == (5, 4, 19)
    assert str(f.location).endswith("deploy.ipynb:cell 5:4:19")
    # the position in the .ipynb file itself is the JSON line holding that source line
    json_lines = path.read_text().splitlines()
    assert 'instance_type=\\"Standard_DS3_v9\\"' in json_lines[f.location.file_line - 1]
    assert not [f for f in report.findings if f.rule == "AML006"], report.findings


def test_sarif_and_github_point_at_the_json_line_and_name_the_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n' + _deployment())])
    report = lint_paths([path])
    [f] = [f for f in report.findings if f.rule == "AML201"]
    sarif = json.loads(sarif_report.render(report))
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "AML201"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": f.location.file_line}
    assert result["message"]["text"].startswith("cell 1, line 6: ")
    line = github_report.command(f)
    assert f"line={f.location.file_line}," in line and "col=" not in line
    assert "::cell 1, line 6: " in line


def test_suppression_comments_work_in_cells(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [
        ("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n'),
        ("code", _deployment(trailer="  # amlforge: ignore[AML201]")),
    ])
    report = lint_paths([path])
    assert "AML201" not in {f.rule for f in report.findings}
    assert "AML009" not in {f.rule for f in report.findings}
    assert report.suppressed == 1


def test_an_unused_suppression_in_a_cell_is_located_in_its_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [
        ("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n'),
        ("code", _deployment(sku="Standard_DS3_v2", trailer="  # amlforge: ignore[AML201]")),
    ])
    [f] = [f for f in lint_paths([path]).findings if f.rule == "AML009"]
    assert (f.location.cell, f.location.line) == (2, 4)


def test_invalid_json_is_a_located_problem_and_the_run_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [\n {"source": "from azure.ai.ml import x"\n')
    good = _notebook(tmp_path, [("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n' + _deployment())])
    report = lint_paths([tmp_path])
    [problem] = [f for f in report.findings if f.rule == "AML006"]
    assert problem.location.file.endswith("bad.ipynb") and problem.location.line == 3
    assert "not valid JSON" in problem.message
    assert any(f.rule == "AML201" and f.location.file.endswith(good.name) for f in report.findings)


def test_a_cell_that_does_not_parse_is_reported_and_the_others_are_read(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [
        ("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n'),
        ("code", "d = ManagedOnlineDeployment(name=\n"),
        ("code", _deployment()),
    ])
    rules = [(f.rule, f.location.cell) for f in lint_paths([path]).findings]
    assert ("AML006", 2) in rules and ("AML201", 3) in rules


def test_non_python_kernels_are_skipped(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [("code", IMPORTS)], kernelspec={"language": "R", "name": "ir"})
    read = NotebookReader().read(path, path.name, False, LoadOptions())
    assert read.documents == [] and read.problems == []
    assert "language is r," in read.skipped
    # named on the command line, it is reported, as a named YAML file that is not az-ml is
    read = NotebookReader().read(path, path.name, True, LoadOptions())
    assert [(p.code, p.location.line) for p in read.problems] == [("AML005", 1)]
    assert "kernel language is r, not Python" in read.problems[0].message


def test_named_python_sources_without_endpoints_are_reported_and_skip_unknown_skips_them(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "train.py").write_text("import pandas\n")
    (tmp_path / "client.py").write_text("from azure.ai.ml import MLClient\nml_client = MLClient.from_config()\n")
    _notebook(tmp_path, [("code", "import pandas\n")], name="explore.ipynb")
    run = run_cli("lint", "train.py", "client.py", "explore.ipynb", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    for name, why in (("train.py", "it does not use azure-ai-ml"), ("explore.ipynb", "it does not use azure-ai-ml"),
                      ("client.py", "it builds no online endpoint, deployment, environment or model")):
        assert f"{name}:1:1: error AML005 no azure-ai-ml online endpoint source: {why}" in run.stdout, run.stdout
    run = run_cli("lint", "--skip-unknown", "train.py", "client.py", "explore.ipynb", cwd=tmp_path)
    assert run.returncode == 0 and "AML005" not in run.stdout, run.stdout + run.stderr
    run = run_cli("lint", ".", cwd=tmp_path)  # walked, they are skipped without a finding
    assert "AML005" not in run.stdout and run.returncode == 0, run.stdout + run.stderr


def test_outputs_with_images_are_not_read_and_huge_notebooks_are_reported(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [("code", IMPORTS + 'ENDPOINT = "my-endpoint"\n' + _deployment())])
    nb = json.loads(path.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "display_data", "metadata": {},
                                  "data": {"image/png": "iVBORw0KGgo" * 200_000}}]
    path.write_text(json.dumps(nb, indent=1))
    assert "AML201" in {f.rule for f in lint_paths([path]).findings}
    read = NotebookReader().read(path, path.name, False, LoadOptions(max_file_bytes=1000))
    assert read.documents  # the cap is at least MAX_NOTEBOOK_BYTES
    big = tmp_path / "huge.ipynb"
    big.write_bytes(b'{"cells": [], "x": "azure.ai.ml' + b" " * (33 * 1024 * 1024) + b'"}')
    [problem] = NotebookReader().read(big, big.name, False, LoadOptions()).problems
    assert problem.code == "AML004" and "clear-output" in problem.hint


def test_ipython_syntax_is_blanked_not_parsed() -> None:
    assert python_lines(["%pip install x", "!az ml online-endpoint list", "out = !ls", "x = 1"]) == \
        ["", "", "", "x = 1"]
    assert python_lines(["%%bash", "echo hi"]) is None
    assert python_lines(["%%time", "x = 1"]) == ["", "x = 1"]


def test_notebooks_without_azure_ai_ml_are_skipped_quickly(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [("code", "import pandas\n")])
    read = NotebookReader().read(path, path.name, False, LoadOptions())
    assert read.skipped == "does not use azure-ai-ml" and read.problems == []
