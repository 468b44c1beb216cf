"""The published schema, the built-in packs and the documented examples stay valid."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from amlforge.policies.packs import SCHEMA_PATH, builtin_names, load_pack, schema
from tests.conftest import ROOT

DOC = ROOT / "docs" / "policy-packs.md"


def test_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$id"].endswith("amlforge/policies/packs/policy-pack.schema.json")


def test_schema_is_printed_by_a_command() -> None:
    out = subprocess.run([sys.executable, "-m", "amlforge.policies.packs", "schema"], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_packs_load(name: str) -> None:
    pack = load_pack(f"builtin:{name}")
    assert pack.builtin and pack.rules
    assert all(990 <= int(r.id[3:]) <= 999 for r in pack.rules)


PACK_BLOCKS = [b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL) if "\npack:" in "\n" + b]


@pytest.mark.parametrize("index", range(len(PACK_BLOCKS)))
def test_documented_packs_load(index: int, tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK_BLOCKS[index])
    assert load_pack(str(path)).rules


def test_documented_production_table_matches_the_pack() -> None:
    text = DOC.read_text(encoding="utf-8")
    for r in load_pack("builtin:production").rules:
        assert f"| {r.id} | `{r.name}` | {r.severity} |" in text


def test_ci_examples_run_lint_and_review_and_upload_sarif() -> None:
    for name in ("github-actions.yml", "azure-pipelines.yml"):
        text = (ROOT / "docs" / "ci" / name).read_text(encoding="utf-8")
        yaml.safe_load(text)
        assert "amlforge lint" in text and "amlforge review" in text and "--format sarif" in text
        assert "fetch" in text.lower() and "amlforge-lint" in text  # history for the base; the pre-commit hook
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Policy packs and review" in readme
