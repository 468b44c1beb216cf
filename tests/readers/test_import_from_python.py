"""``amlforge import`` of a notebook or .py file: the amlforge.yaml of what the code deploys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from amlforge.errors import UserInputError
from amlforge.generators.importer import import_project
from tests.conftest import run_cli

CODE = """\
from azure.ai.ml import entities as e
import os

ENDPOINT = "churn-endpoint"
endpoint = e.ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key")
blue = e.ManagedOnlineDeployment(
    name="blue",
    endpoint_name=ENDPOINT,
    model=e.Model(path="model"),
    environment=e.Environment(image="mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:20240709.v1",
                              conda_file="conda.yaml"),
    code_configuration=e.CodeConfiguration(code="src", scoring_script="score.py"),
    instance_type="Standard_DS3_v2",
    instance_count=3,
    description=os.environ.get("DESCRIPTION"),
)
endpoint.traffic = {"blue": 100}
"""


def _project(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(d):\n    return d\n")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "m.pkl").write_bytes(b"x")
    (tmp_path / "conda.yaml").write_text("dependencies:\n  - python=3.10\n")


def _notebook(tmp_path: Path, code: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": part.splitlines(keepends=True)} for part in code.split("\n\n")]
    path = tmp_path / "deploy.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    return path


@pytest.mark.parametrize("form", ["py", "ipynb"])
def test_import_writes_the_spec_of_what_the_code_deploys(tmp_path: Path, form: str) -> None:
    _project(tmp_path)
    if form == "py":
        (tmp_path / "deploy.py").write_text(CODE)
        source = tmp_path / "deploy.py"
    else:
        source = _notebook(tmp_path, CODE)
    notes: list[str] = []
    spec = import_project(source, notes=notes)
    dep = spec.endpoints["churn-endpoint"].deployments["blue"]
    assert dep.instance_type == "Standard_DS3_v2" and dep.instance_count == 3
    assert spec.endpoints["churn-endpoint"].traffic == {"blue": 100}
    [note] = notes
    assert "description is known only at run time" in note and f"{source.name}:" in note
    result = run_cli("import", source.name, "-o", "amlforge.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((tmp_path / "amlforge.yaml").read_text())
    assert written["endpoints"]["churn-endpoint"]["deployments"]["blue"]["scoring_script"] == "score.py"
    assert f"note: {source.name}:" in result.stderr


def test_a_name_known_only_at_run_time_is_refused_with_its_location(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "deploy.py").write_text(CODE.replace('ENDPOINT = "churn-endpoint"', "ENDPOINT = os.environ['EP']"))
    with pytest.raises(UserInputError) as e:
        import_project(tmp_path / "deploy.py")
    assert "name is known only at run time" in e.value.message
    assert str(e.value.location) == "deploy.py:4:12" or str(e.value.location).endswith("deploy.py:4:12")
