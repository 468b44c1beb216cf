"""The knowledge catalog: shipped entries with sources, a project's own entries, `amlforge data`."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.specs.knowledge import STALE_AFTER_DAYS, load_knowledge, render_text, shipped, to_dict


def test_every_shipped_entry_has_a_source_and_a_valid_status() -> None:
    k = shipped()
    for entry in k.images + k.environments:
        assert entry.source.strip() and entry.status in ("supported", "deprecated", "renamed", "retired")
        assert entry.match or re.compile(entry.regex)
        if entry.status != "supported":
            assert entry.replacement, f"{entry} names no replacement"
    for defect in k.server_defects:
        assert defect.source and defect.fix
    assert k.limits["source"] and k.mlflow["scorer_requires_source"]


@pytest.mark.parametrize(("image", "status"), [
    ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", "deprecated"),
    ("mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.6-cudnn8-ubuntu20.04", "deprecated"),
    ("mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04", "deprecated"),
    ("mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04", "deprecated"),
    ("mcr.microsoft.com/azureml/minimal-ubuntu20.04-py38-cpu-inference", "deprecated"),
    ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04", "supported"),
    ("mcr.microsoft.com/azureml/openmpi5.0-cuda12.8-ubuntu24.04", "supported"),
    ("mcr.microsoft.com/azureml/minimal-py312-inference", "supported"),
])
def test_image_lifecycle(image: str, status: str) -> None:
    entry = shipped().image(image)
    assert entry is not None and entry.status == status


def test_unknown_images_have_no_entry() -> None:
    assert shipped().image("docker.io/library/python") is None


def test_renamed_environment_replacement_fills_the_pattern() -> None:
    entry = shipped().environment("minimal-ubuntu22.04-py310-cpu-inference")
    assert entry is not None and entry.status == "renamed"
    assert entry.replacement_for("minimal-ubuntu22.04-py310-cpu-inference") == "minimal-py310-inference"


def test_own_entries_come_first(tmp_path: Path) -> None:
    own = tmp_path / "k.json"
    own.write_text(json.dumps({"images": [
        {"match": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", "status": "supported",
         "source": "we pay for extended support"}]}))
    k = load_knowledge(own)
    assert k.image("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04").status == "supported"
    assert k.as_of == shipped().as_of
    assert k.origins == [str(own), "amlforge"]


@pytest.mark.parametrize("text", ["[]", "{", '{"images": [{"status": "retired"}]}',
                                  '{"images": [{"match": "x", "status": "gone"}]}',
                                  '{"images": [{"regex": "(", "status": "retired"}]}',
                                  '{"as_of": "yesterday"}'])
def test_malformed_own_files_are_user_errors(tmp_path: Path, text: str) -> None:
    own = tmp_path / "k.json"
    own.write_text(text)
    with pytest.raises(UserInputError) as e:
        load_knowledge(own)
    assert e.value.location is not None and e.value.hint


def test_age_and_rendering() -> None:
    k = shipped()
    later = k.as_of + datetime.timedelta(days=STALE_AFTER_DAYS + 1)
    assert to_dict(k, later)["stale"] is True
    assert to_dict(k, k.as_of)["stale"] is False
    assert "older than six months" in render_text(k, later)


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "amlforge", *args], capture_output=True, text=True, cwd=cwd)


def test_data_command_lists_the_catalog() -> None:
    out = _run("data")
    assert out.returncode == 0, out.stderr
    assert "openmpi4.1.0-ubuntu20.04" in out.stdout and "source:" in out.stdout
    data = json.loads(_run("data", "--format", "json").stdout)
    assert data["as_of"] == shipped().as_of.isoformat()


def test_lint_with_a_malformed_knowledge_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nknowledge = "k.json"\n')
    (tmp_path / "k.json").write_text("{not json")
    (tmp_path / "env.yml").write_text("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                      "name: e\nversion: 1\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest\n")
    out = _run("lint", ".", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "k.json" in out.stdout + out.stderr and "Traceback" not in out.stderr
