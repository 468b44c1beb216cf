"""Template placeholders: filled in the text before parsing, or kept as unknown strings that only
AML108 reports, at the placeholder's own line and column in the original text."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.policies.engine import lint_paths
from amlforge.specs.placeholders import fill, tokens
from amlforge.specs.source import parse_yaml

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: {{ENDPOINT_NAME}}
model: azureml:my-model:1
environment:
  image: {{ACR_NAME}}.azurecr.io/azureml/img:1
  conda_file: conda.yaml
instance_type: <INSTANCE_TYPE>
instance_count: {{COUNT}}
"""
CONDA = "name: x\ndependencies:\n  - python=3.10.14\n  - pip:\n    - azureml-inference-server-http==1.3.4\n"


def test_unquoted_placeholder_inside_a_value_parses_as_the_original_string() -> None:
    data, smap = parse_yaml("image: {{ACR_NAME}}.azurecr.io/img:1\nname: {{ NAME }}\n", "f.yml")
    assert data == {"image": "{{ACR_NAME}}.azurecr.io/img:1", "name": "{{ NAME }}"}
    assert [(p.name, p.line, p.column) for p in smap.placeholders] == [("ACR_NAME", 1, 8), ("NAME", 2, 7)]
    assert smap.is_unknown(("image",)) and smap.is_unknown(("name",))


def test_vars_fill_the_text_before_parsing_and_positions_stay_in_the_original() -> None:
    text = "image: {{ACR}}.azurecr.io/img:1 # {{ACR}}\ncount: {{N}}\nsku: {{A}}-{{B}} \nbad: [x\n"
    with pytest.raises(UserInputError) as err:
        parse_yaml(text, "f.yml", {"ACR": "a-much-longer-registry-name", "N": "3"})
    # the error is at the original text's position, not the filled one's
    assert (err.value.location.line, err.value.location.column) == (5, 1)
    data, smap = parse_yaml(text.replace("bad: [x\n", ""), "f.yml",
                            {"ACR": "a-much-longer-registry-name", "N": "3", "B": "xx"})
    assert data["image"] == "a-much-longer-registry-name.azurecr.io/img:1"
    assert data["count"] == 3  # a number, as the repository's sed would make it
    assert data["sku"] == "{{A}}-xx"
    assert smap.values[("count",)] == (2, 8)
    assert smap.values[("sku",)] == (3, 6)
    [ph] = smap.placeholders
    assert (ph.text, ph.line, ph.column) == ("{{A}}", 3, 6)


def test_a_filled_value_shifts_later_columns_back() -> None:
    _, cmap = fill("a: {{X}}, b: {{Y}}", {"X": "1234567890", "Y": "z"})
    # "a: 1234567890, b: z": the comma at filled column 14 is at original column 9
    assert cmap.original(1, 14) == (1, 9)
    assert cmap.original(1, 19) == (1, 14)  # z: the start of {{Y}}
    assert cmap.original(1, 6) == (1, 4)  # inside the filled value: its placeholder


@pytest.mark.parametrize(("value", "names"), [
    ("{{ENDPOINT_NAME}}", ["ENDPOINT_NAME"]),
    ("<ENDPOINT_NAME>", ["ENDPOINT_NAME"]),
    ("<my-endpoint-name>", ["my-endpoint-name"]),
    ("azureml:<env-name>:1", ["env-name"]),
    ("user_identity_ARM_id_place_holder", ["user_identity_ARM_id_place_holder"]),
    ("subscription_placeholder", ["subscription_placeholder"]),
    ("${{ secrets.KEY }}", ["secrets.KEY"]),
    ("$(Build.BuildId)", ["Build.BuildId"]),
    ("${IMAGE_TAG}", ["IMAGE_TAG"]),
    ("{{A}}/{{B}}", ["A", "B"]),
])
def test_conventions_are_recognised(value: str, names: list[str]) -> None:
    assert [t.name for t in tokens(value)] == names


@pytest.mark.parametrize("value", [
    "python<3.12", "numpy>=1.20,<2", "azureml:my-env:1", "Standard_DS3_v2", "a<b>c", "placeholder",
    "azureml://registries/azureml/environments/sklearn-1.5/labels/latest", "$HOME", "{ a: 1 }",
    "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest", "x=$1", "<3",
])
def test_ordinary_values_are_not_placeholders(value: str) -> None:
    assert tokens(value) == []


def test_free_text_only_counts_braces() -> None:
    _, smap = parse_yaml("description: deploy <model> with ${TAG}\ntags: {owner: <team>}\n", "f.yml")
    assert smap.placeholders == [] and not smap.unknown


@pytest.fixture
def templated(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text("")
    (tmp_path / "conda.yaml").write_text(CONDA)
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    return tmp_path


def test_unfilled_placeholders_are_reported_once_by_aml108_only(templated: Path) -> None:
    report = lint_paths([templated])
    found = [(f.rule, f.location.line, f.location.column) for f in report.findings if f.location.file.endswith("blue.yml")]
    assert found == [("AML108", 3, 16), ("AML108", 6, 10), ("AML108", 8, 16), ("AML108", 9, 17)]
    [first] = [f for f in report.findings if f.location.line == 3]
    assert "{{ENDPOINT_NAME}}" in first.message and "--var ENDPOINT_NAME=VALUE" in first.hint
    assert report.exit_code == 1  # warnings, not unreadable input


def test_filled_placeholders_are_checked_like_any_value(templated: Path) -> None:
    report = lint_paths([templated], variables={"ENDPOINT_NAME": "my-ep", "ACR_NAME": "myacr",
                                                "INSTANCE_TYPE": "Standard_DS3_v9", "COUNT": "3"})
    rules = {(f.rule, f.location.line, f.location.column) for f in report.findings}
    assert ("AML201", 8, 16) in rules  # the filled SKU is checked, at the placeholder's position
    assert not any(r == "AML108" for r, _, _ in rules)
    [dep] = report.project.deployments
    assert dep.spec.instance_count == 3 and dep.spec.endpoint_name == "my-ep"


def test_shell_variables_in_environment_variables_are_kept() -> None:
    text = "environment_variables:\n  MODEL: ${AZUREML_MODEL_DIR}/m\n  X: $(pwd)\n  Y: '{{Y}}'\n"
    data, smap = parse_yaml(text, "f.yml")
    assert data["environment_variables"]["MODEL"] == "${AZUREML_MODEL_DIR}/m"
    assert [p.text for p in smap.placeholders] == ["{{Y}}"]
