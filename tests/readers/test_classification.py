"""A file is az-ml only on real evidence; other forms are never linted as az-ml, named or walked."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.readers.azml_yaml import recognise
from tests.conftest import run_cli

DEPLOYMENT = """\
name: blue
endpoint_name: my-endpoint
model: azureml:my-model:1
environment: azureml:my-env:1
instance_type: Standard_DS3_v9
instance_count: 1
"""

#: Files of other forms, each with keys a guess by keys alone would have taken for az-ml.
OTHERS = {
    "arm.yaml": ("$schema: https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\n"
                 "contentVersion: 1.0.0.0\nresources: []\n", "an ARM template"),
    "deploy-k8s.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                        "spec: {template: {spec: {containers: [{image: x, resources: {}}]}}}\n",
                        "a Kubernetes manifest"),
    "compose.yml": ("services:\n  web:\n    image: x\n    environment_variables: {}\n", "a Docker Compose file"),
    "ci.yml": ("on: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    environment: prod\n",
               "a GitHub Actions workflow"),
    "azure-pipelines.yml": ("trigger: [main]\npool: {vmImage: ubuntu-latest}\nsteps:\n  - script: az ml online-deployment create\n",
                            "an Azure Pipelines definition"),
    "conda.yaml": ("name: env\nchannels: [conda-forge]\ndependencies: [python=3.10]\n", "a conda environment file"),
    "mlmodel.yaml": ("artifact_path: model\nflavors:\n  python_function: {loader_module: mlflow.sklearn}\n"
                     "run_id: abc\n", "an MLflow MLmodel file"),
    "values.yml": ("image: {repository: x, tag: '1'}\nresources: {limits: {cpu: 1}}\nreplicaCount: 2\n"
                   "liveness_probe: {}\n", "only guessed"),
    "job.yml": ("$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: python x.py\n"
                "environment: azureml:e:1\n", "an az-ml commandjob document"),
    "batch.yml": ("name: b\nendpoint_name: ep\nmodel: azureml:m:1\ncompute: azureml:cpu\nmini_batch_size: 10\n"
                  "output_action: append_row\n", "an az-ml batch deployment"),
}


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_forms_are_recognised_with_a_reason(tmp_path: Path, name: str) -> None:
    import yaml

    kind, why = recognise(yaml.safe_load(OTHERS[name][0]))
    assert kind is None
    assert OTHERS[name][1] in why


@pytest.mark.parametrize(("data", "kind"), [
    ({"name": "env", "version": "1", "image": "mcr.microsoft.com/azureml/x:1"}, "environment"),
    ({"name": "ep", "compute": "azureml:k8s"}, "kubernetes_endpoint"),
    ({"name": "b", "environment_variables": {}, "model": "azureml:m:1", "environment": "azureml:e:1"},
     "managed_deployment"),
    ({"name": "b", "instance_type": "x", "replicas": 3}, "managed_deployment"),  # a typo is still linted
])
def test_az_ml_files_without_schema_are_recognised_by_their_keys(data: dict, kind: str) -> None:
    assert recognise(data)[0] == kind


def _tree(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text("")
    for name, (text, _) in OTHERS.items():
        (tmp_path / name).write_text(text)
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("image: x\nresources: {}\nenvironment_variables: {}\n")
    (chart / "templates" / "d.yaml").write_text("instance_type: {{ .Values.sku }}\n  broken: [\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\n")
    (tmp_path / "main.bicep").write_text("param x string\n")
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    return tmp_path


def test_a_walked_folder_lints_only_the_az_ml_file(tmp_path: Path) -> None:
    report = lint_paths([_tree(tmp_path)])
    assert {Path(f.location.file).name for f in report.findings} == {"blue.yml"}
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert set(skipped) >= set(OTHERS) | {"Chart.yaml", "values.yaml", "d.yaml"}
    assert "part of a Helm chart" in skipped["d.yaml"]


@pytest.mark.parametrize("skip_unknown", [False, True])
@pytest.mark.parametrize("name", [*sorted(OTHERS), "chart/values.yaml", "chart/templates/d.yaml", "Dockerfile",
                                  "main.bicep"])
def test_a_named_file_of_another_form_gets_no_schema_error(tmp_path: Path, name: str, skip_unknown: bool) -> None:
    _tree(tmp_path)
    report = lint_paths([tmp_path / name], skip_unknown=skip_unknown)
    rules = {f.rule for f in report.findings}
    assert not any(r.startswith("AML1") or r.startswith("AML2") for r in rules), report.findings
    assert rules == (set() if skip_unknown else {"AML005"})


def test_verbose_lists_the_skipped_files_with_reasons(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = run_cli("lint", "-v", ".", cwd=tmp_path)
    assert "skipped ci.yml: a GitHub Actions workflow" in result.stderr
    assert "skipped values.yml: only guessed to be an az-ml" in result.stderr
    assert "blue.yml:5:16: error AML201" in result.stdout
    quiet = run_cli("lint", ".", cwd=tmp_path)
    assert "skipped" not in quiet.stderr


@pytest.mark.parametrize(("schema", "kind"), [
    ("http://azureml/sdk-2-0/OnlineEndpoint.json", "managed_endpoint"),
    ("http://azureml/sdk-2-0/ManagedOnlineDeployment.json", "managed_deployment"),
    ("http://azureml/sdk-2-0/ModelVersionPackage.json", None),  # a model package: az-ml, not online
])
def test_the_sdk_2_0_schema_urls_are_az_ml(schema: str, kind: str | None) -> None:
    found, why = recognise({"$schema": schema, "name": "x"})
    assert found == kind
    assert kind is not None or why == "an az-ml modelversionpackage document"
