"""Kubernetes InstanceType objects (kubectl get instancetypes -o yaml) in a lint run."""

from __future__ import annotations

from pathlib import Path

from amlforge.policies.engine import lint_paths
from amlforge.specs.loader import LoadOptions, load_project

LIST = """\
apiVersion: amlarc.azureml.com/v1alpha1
kind: InstanceTypeList
items:
  - apiVersion: amlarc.azureml.com/v1alpha1
    kind: InstanceType
    metadata:
      name: cpu-small
      creationTimestamp: "2026-01-01T00:00:00Z"
    spec:
      nodeSelector: {agentpool: cpu}
      resources:
        limits: {cpu: 1, memory: 2Gi, nvidia.com/gpu: 0}
"""
SINGLE = """\
apiVersion: amlarc.azureml.com/v1alpha1
kind: InstanceType
metadata:
  name: gpu-small
spec:
  resources:
    limits: {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}
"""


def test_lists_and_single_objects_are_read(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text(LIST)
    (tmp_path / "one.yaml").write_text(SINGLE)
    result = load_project([tmp_path], LoadOptions(root=tmp_path))
    assert result.problems == []
    assert sorted(t.spec.name for t in result.project.instance_types) == ["cpu-small", "gpu-small"]
    cpu = result.project.instance_type("cpu-small")
    assert cpu.spec.spec.resources.limits.cpu == "1" and cpu.at("metadata", "name").location().line == 7


def test_instance_types_get_no_schema_errors_and_other_manifests_stay_out(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text(LIST)
    (tmp_path / "service.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
    report = lint_paths([tmp_path], root=tmp_path)
    assert not [f for f in report.findings if f.rule.startswith("AML1")]


def test_a_malformed_instance_type_is_located(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(SINGLE.replace("  name: gpu-small\n", "  labels: {}\n"))
    report = lint_paths([tmp_path / "bad.yaml"], root=tmp_path)
    assert [(f.rule, f.location.line) for f in report.findings] == [("AML103", 3)]


def test_instance_types_from_configuration(tmp_path: Path) -> None:
    """A repository-level configuration names the cluster's dump; linting the service folder alone
    (which the walk cannot reach the dump from) still checks instance_type against it."""
    (tmp_path / "cluster").mkdir()
    (tmp_path / "cluster" / "types.yaml").write_text(SINGLE)
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\ninstance_types = ["cluster/types.yaml"]\n')
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "deployment.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json\n"
        "name: blue\nendpoint_name: k8s-ep\ntype: kubernetes\nmodel: azureml:m:1\nenvironment: azureml:e:1\n"
        "instance_type: gpu-large\ninstance_count: 1\n")
    report = lint_paths([tmp_path / "svc"])
    assert [(f.rule, f.location.line) for f in report.findings if f.rule == "AML216"] == [("AML216", 7)]


def test_configuration_naming_a_file_without_instance_types_is_an_error(tmp_path: Path) -> None:
    import pytest

    from amlforge.errors import UserInputError

    (tmp_path / "types.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\ninstance_types = ["types.yaml"]\n')
    (tmp_path / "env.yml").write_text("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                      "name: e\nversion: 1\nimage: python:3.11\n")
    with pytest.raises(UserInputError):
        lint_paths([tmp_path / "env.yml"])
