"""The reader contract: dispatch by file name, unknown values, and the az-ml YAML reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.readers import Unknown, claimed, reader_for
from amlforge.readers.azml_yaml import AzmlYamlReader
from amlforge.specs.loader import LoadOptions, _add_document, load_project
from amlforge.specs.project import Document, Project
from amlforge.specs.source import SourceMap

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: my-endpoint
model: azureml:my-model:1
environment: azureml:my-env:1
instance_type: {sku}
instance_count: 1
"""


@pytest.mark.parametrize("name", ["deploy.yml", "deploy.YAML", "deploy.Yml", "x.yaml"])
def test_yaml_files_are_claimed_whatever_the_case(name: str) -> None:
    assert claimed(Path(name))
    assert isinstance(reader_for(Path(name)), AzmlYamlReader)


@pytest.mark.parametrize("name", ["README.md", "score.py.txt", "yaml", "Dockerfile"])
def test_other_files_are_not_claimed(name: str) -> None:
    assert not claimed(Path(name))


def test_upper_case_extension_is_walked(tmp_path: Path) -> None:
    (tmp_path / "BLUE.YAML").write_text(DEPLOYMENT.format(sku="Standard_DS3_v9"))
    report = lint_paths([tmp_path])
    assert [f.rule for f in report.findings if f.rule == "AML201"] == ["AML201"]
    assert report.findings[0].location.file.endswith("BLUE.YAML")


def test_unfilled_placeholder_is_unknown_to_every_rule_but_aml108(tmp_path: Path) -> None:
    (tmp_path / "blue.yml").write_text(DEPLOYMENT.format(sku='"{{SKU}}"'))
    report = lint_paths([tmp_path])
    at_sku = [f for f in report.findings if f.location.line == 6]
    assert [f.rule for f in at_sku] == ["AML108"]
    # the same value filled in is checked as usual
    filled = lint_paths([tmp_path], variables={"SKU": "Standard_DS3_v9"})
    assert "AML201" in {f.rule for f in filled.findings}


def _document(tmp_path: Path, data: dict, unknown: dict) -> Document:
    smap = SourceMap("deploy.py", values={(): (1, 1), **{(k,): (i + 2, 5) for i, k in enumerate(data)}},
                     unknown=unknown)
    return Document(tmp_path / "deploy.py", "deploy.py", "managed_deployment", data, smap)


def test_unknown_values_are_left_out_of_validation(tmp_path: Path) -> None:
    data = {"name": "blue", "endpoint_name": "ep", "instance_type": "Standard_DS3_v2",
            "instance_count": Unknown("a function call"), "model": "azureml:m:1", "environment": "azureml:e:1"}
    project = Project(root=tmp_path)
    problems: list = []
    _add_document(project, _document(tmp_path, data, {("instance_count",): "a function call"}),
                  LoadOptions(root=tmp_path), problems)
    assert problems == []
    assert [d.spec.instance_type for d in project.deployments] == ["Standard_DS3_v2"]


def test_a_known_bad_value_is_still_reported_beside_an_unknown_one(tmp_path: Path) -> None:
    data = {"name": "blue", "endpoint_name": "ep", "instance_type": Unknown("a variable"),
            "instance_count": "three", "model": "azureml:m:1", "environment": "azureml:e:1"}
    project = Project(root=tmp_path)
    problems: list = []
    _add_document(project, _document(tmp_path, data, {("instance_type",): "a variable"}),
                  LoadOptions(root=tmp_path), problems)
    assert [(p.code, p.location.line) for p in problems] == [("AML102", 5)]
    assert project.deployments == []


def test_unknown_text_says_why() -> None:
    assert Unknown("reference()") == "<unknown: reference()>"
    assert isinstance(Unknown("x"), str)


def test_load_project_reads_through_the_reader(tmp_path: Path) -> None:
    (tmp_path / "blue.yml").write_text(DEPLOYMENT.format(sku="Standard_DS3_v2"))
    result = load_project([tmp_path], LoadOptions(root=tmp_path))
    assert [d.kind for d in result.project.documents] == ["managed_deployment"]


def test_an_image_mapping_without_schema_is_not_an_environment(tmp_path: Path) -> None:
    """The asset pipeline's environment.yaml (image: {name, context, publish}) is no az-ml file."""
    (tmp_path / "environment.yaml").write_text(
        "image:\n  name: azureml/curated/minimal-py311-inference\n  os: linux\n"
        "  context:\n    dir: context\n    dockerfile: Dockerfile\n  publish:\n    location: mcr\n")
    from amlforge.readers.azml_yaml import recognise
    from amlforge.specs.source import parse_yaml

    data, _ = parse_yaml((tmp_path / "environment.yaml").read_text(), "environment.yaml")
    kind, why = recognise(data)
    assert kind is None and "only guessed" in why
