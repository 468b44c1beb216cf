"""The project spec: validation with located errors, the published JSON Schema, and the loader."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from amlforge.policies.engine import lint_paths
from amlforge.specs.project_spec import SCHEMA_FILE_NAME, SpecError, load_spec, schema_text
from tests.conftest import run_cli
from tests.generators.conftest import EXAMPLES, ROOT, SHOWCASE, SPEC_IDS, SPECS

SCHEMA_FILE = ROOT / SCHEMA_FILE_NAME

MINIMAL = """\
version: 1
target: {workspace: my-ws, resource_group: my-rg, region: westeurope}
environments:
  env: {image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1", conda_file: conda.yaml}
models:
  iris: {path: model}
code:
  src: {path: src}
endpoints:
  my-endpoint:
    deployments:
      blue: {model: iris, environment: env, code: src, scoring_script: score.py, instance_type: Standard_D4as_v4,
             instance_count: 3}
    traffic: {blue: 100}
"""


def write(tmp_path: Path, text: str, name: str = "amlforge.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    return [(p.location.line, p.location.column, p.code, p.message) for p in info.value.problems]


def test_schema_file_is_current() -> None:
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "amlforge.schema.json is stale: run UPDATE_SNAPSHOTS=1 pytest tests/generators/test_spec.py"


def test_schema_command_prints_the_published_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_specs_validate_against_the_published_schema(spec_path: Path) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(yaml.safe_load(spec_path.read_text()))) == []


def test_published_schema_describes_every_field() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    undocumented = [f"{name}.{field}" for name, definition in schema["$defs"].items()
                    for field, prop in definition.get("properties", {}).items()
                    if name.endswith(("Def", "Spec", "Target", "Identity")) and not prop.get("description")]
    assert undocumented == []
    assert schema["properties"]["endpoints"]["propertyNames"]["maxLength"] == 32


def test_minimal_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL)).spec
    assert spec.target.api_version == "2026-05-01"
    assert spec.endpoints["my-endpoint"].deployments["blue"].instance_count == 3


def test_errors_carry_file_line_column_and_hint(tmp_path: Path) -> None:
    bad = MINIMAL.replace("instance_count: 3", "instance_count: three, instnce_type: x").replace(
        "my-endpoint:", "my_endpoint:")
    found = problems(tmp_path, bad)
    assert (10, 3, "AML104", "endpoint name 'my_endpoint' is not valid: 3-32 characters: a letter first, then "
            "letters, digits and dashes, ending with a letter or digit") in found
    assert any(code == "AML102" and line == 13 and "instance_count" in msg for line, _, code, msg in found)
    assert any(code == "AML101" and line == 13 and "instnce_type" in msg for line, _, code, msg in found)
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, bad))
    assert any(p.hint == "did you mean 'instance_type'?" for p in info.value.problems)


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("model: iris,", "model: irs,", (12, 21), "'irs' is not in models"),
    ("traffic: {blue: 100}", "traffic: {blue: 90}", (14, 14), "traffic sums to 90, expected 100 (or all 0)"),
    ("traffic: {blue: 100}", "traffic: {blue: 100, green: 0}", (14, 26), "'green' is not a deployment of this endpoint"),
    ("traffic: {blue: 100}", "traffic: {blue: 100}\n    mirror_traffic: {blue: 60}", (15, 28),
     "60 is not a percentage between 0 and 50"),
    ("    deployments:", "    kind: kubernetes\n    deployments:", (11, 11), "a Kubernetes endpoint needs compute"),
    ("    deployments:", "    identity: {type: user_assigned}\n    deployments:", (11, 15),
     "user_assigned needs exactly one identity in user_assigned_identities (got 0)"),
    ("conda_file: conda.yaml}", "conda_file: conda.yaml, dockerfile: true}", (4, 16),
     "the base image"),
    ("iris: {path: model}", "iris: {reference: 'azureml:iris:1', version: '2'}", (6, 39),
     "version does not apply to a registered model reference"),
    ("iris: {path: model}", "iris: {reference: 'azureml:iris@latest'}", (6, 21), "does not name a version"),
    ("iris: {path: model}", "iris: {path: /abs/model}", (6, 16), "is absolute"),
    ("iris: {path: model}", "iris: {path: 'model\\\\pkl'}", (6, 16), "contains a backslash"),
    ("region: westeurope", "region: West Europe", (2, 59), "region 'West Europe' is not valid"),
    ("blue: {model", "Blue: {}\n      blue: {model", (13, 7), "differs from 'Blue' only in case"),
])
def test_consistency_errors(tmp_path: Path, old: str, new: str, where: tuple[int, int], message: str) -> None:
    text = MINIMAL.replace(old, new)
    if "dockerfile: true" in new:
        text = text.replace("20260715.v1", "latest")
    found = problems(tmp_path, text)
    hits = [f for f in found if message in f[3]]
    assert hits, found
    assert hits[0][:2] == where, hits


def test_paths_are_normalised(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL.replace("path: model}", "path: ./model/}"))).spec
    assert spec.models["iris"].path == "model"


def test_loader_recognises_the_spec_by_name_and_schema(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    good = write(tmp_path, MINIMAL)
    report = lint_paths([good], root=tmp_path)
    assert report.project.documents[0].kind == "project_spec"
    # the spec's az-ml YAML is linted too: the files it names do not exist yet
    assert [(f.rule, f.location.line, f.location.column) for f in report.findings] == [("AML106", 4, 94)]
    shutil.copy(EXAMPLES / "sklearn-blue-green" / "environment" / "conda.yaml", tmp_path / "conda.yaml")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(b"x")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    report = lint_paths([good], root=tmp_path)
    assert report.findings == [], [str(f) for f in report.findings]
    other = write(tmp_path, "$schema: ./amlforge.schema.json\n" + MINIMAL.replace("model: iris,", "model: irs,"),
                  "project.yml")
    report = lint_paths([other], root=tmp_path)
    assert [(f.rule, f.location.line, f.location.column) for f in report.findings] == [("AML110", 13, 21)]
    assert report.exit_code == 1


def test_linting_an_example_folder_does_not_count_its_spec_twice() -> None:
    """The spec's rendered YAML is linted on its own: its endpoint does not clash with the
    hand-written YAML of the same endpoint beside it, and its findings are at its lines."""
    report = lint_paths([EXAMPLES / "sklearn-blue-green"])
    at_spec = [(f.rule, f.location.line) for f in report.findings if f.location.file.endswith("amlforge.yaml")]
    assert at_spec == [("AML202", 33), ("AML202", 59)]  # the two instance_type lines
    assert [d.kind for d in report.project.documents].count("project_spec") == 1
    assert len(report.project.deployments) == 2


def test_bad_spec_on_the_command_line_gives_locations_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL.replace("model: iris,", "model: irs,").replace("traffic: {blue: 100}", "traffic: {blue: 9}"))
    result = run_cli("generate", "amlforge.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "amlforge.yaml:12:21: error: 'irs' is not in models"
    assert lines[1] == "  hint: name one of: iris"
    assert "amlforge.yaml:14:14: error: traffic sums to 9, expected 100 (or all 0)" in lines
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "target: [\n"])
def test_unreadable_specs_exit_2(tmp_path: Path, text: str) -> None:
    write(tmp_path, text)
    result = run_cli("generate", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("amlforge.yaml:") and "Traceback" not in result.stderr


def test_showcase_round_trips_through_its_own_loader(tmp_path: Any) -> None:
    spec = load_spec(SHOWCASE).spec
    assert spec.environments["baked"].kind == "dockerfile"
    assert spec.environments["curated"].kind == "reference"
    assert spec.endpoints["showcase-k8s"].kind == "kubernetes"


def test_the_spec_in_the_docs_is_valid() -> None:
    import re

    from amlforge.specs.project_spec import ProjectSpec

    text = (ROOT / "docs" / "generate.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "endpoints:" in b]
    assert blocks
    for block in blocks:
        ProjectSpec.model_validate(yaml.safe_load(block))
