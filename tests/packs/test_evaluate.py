"""What pack rules select, what their conditions mean, and where their findings point."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths

ENDPOINT = """\
name: shop-ep
auth_mode: key
tags:
  stage: prod
traffic:
  blue: 100
"""

BLUE = """\
name: blue
endpoint_name: shop-ep
model: azureml:m:1
environment:
  image: mcr.microsoft.com/azureml/minimal-py312-inference:20260101.v1
instance_type: Standard_F4s_v2
instance_count: 2
environment_variables:
  WORKER_COUNT: "1"
  API_PASSWORD: hunter2
  API_TOKEN: abc
liveness_probe:
  period: 10
"""

K8S = """\
name: k8s-ep
compute: azureml:aks
auth_mode: key
"""

K8S_DEP = """\
name: pods
type: kubernetes
endpoint_name: k8s-ep
model: azureml:m:1
environment:
  image: mcr.microsoft.com/azureml/minimal-py312-inference:latest
instance_count: 1
scale_settings:
  type: default
"""


def pack(rules: str) -> str:
    return "pack: test\nrules:\n" + rules


def rule(select: str, condition: str, message: str = "{resource} {name}: {field} is {value} (expected {expected})",
         rid: str = "AML901", name: str = "checked-thing", severity: str = "error") -> str:
    return (f"  - id: {rid}\n    name: {name}\n    severity: {severity}\n    select: {select}\n"
            f"    assert: {condition}\n    message: \"{message}\"\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text("[tool.amlforge]\n")
    (tmp_path / "endpoint.yml").write_text(ENDPOINT)
    (tmp_path / "blue.yml").write_text(BLUE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "endpoint.yml").write_text(K8S)
    (tmp_path / "k8s" / "pods.yml").write_text(K8S_DEP)
    return tmp_path


def run(project: Path, pack_text: str, *, profile: str | None = None) -> list[tuple[str, int, int, str]]:
    (project / "pack.yaml").write_text(pack_text)
    report = lint_paths([project], root=project, policies=[str(project / "pack.yaml")], select=["AML9"],
                        profile=profile)
    return [(Path(f.location.file).relative_to(project).as_posix() if Path(f.location.file).is_absolute()
             else Path(f.location.file).resolve().relative_to(project.resolve()).as_posix(),
             f.location.line, f.location.column, f.message) for f in report.findings]


@pytest.mark.parametrize(("condition", "expected"), [
    # equals compares strings ignoring case; an absent value takes the spec default or fails
    ("{field: instance_type, equals: standard_f4s_v2}", []),
    ("{field: instance_type, equals: Standard_F8s_v2}",
     [("blue.yml", 6, 16, "deployment blue: instance_type is Standard_F4s_v2 (expected Standard_F8s_v2)")]),
    ("{field: instance_type, not_equals: Standard_F4S_V2}",
     [("blue.yml", 6, 16, "deployment blue: instance_type is Standard_F4s_v2 (expected Standard_F4S_V2)")]),
    ("{field: instance_type, in: [Standard_F8s_v2, Standard_F16s_v2]}",
     [("blue.yml", 6, 16, ("deployment blue: instance_type is Standard_F4s_v2 (expected Standard_F8s_v2, "
                          "Standard_F16s_v2)"))]),
    ("{field: instance_type, not_in: [Standard_F4s_v2]}",
     [("blue.yml", 6, 16, "deployment blue: instance_type is Standard_F4s_v2 (expected Standard_F4s_v2)")]),
    ("{field: instance_type, matches: '^Standard_F'}", []),
    ("{field: instance_type, not_matches: '_v2$'}",
     [("blue.yml", 6, 16, "deployment blue: instance_type is Standard_F4s_v2 (expected _v2$)")]),
    ("{field: instance_count, min: 3}", [("blue.yml", 7, 17, "deployment blue: instance_count is 2 (expected 3)")]),
    ("{field: instance_count, min: 1, max: 2}", []),
    ("{field: environment_variables.WORKER_COUNT, min: 2}",  # a numeric string counts as a number
     [("blue.yml", 9, 17, "deployment blue: environment_variables.WORKER_COUNT is 1 (expected 2)")]),
    # defaults of the spec models: request_settings is absent, its timeout defaults to 5000
    ("{field: request_settings.request_timeout_ms, max: 5000}", []),
    ("{field: liveness_probe.failure_threshold, min: 30}", []),
    ("{field: app_insights_enabled, equals: true}",
     [("blue.yml", 1, 7, "deployment blue: app_insights_enabled is false (expected true)")]),
    # required/forbidden look at the file; an absent child points at its parent's key
    ("{field: liveness_probe.failure_threshold, required: true}",
     [("blue.yml", 12, 1, "deployment blue: liveness_probe.failure_threshold is 30 (expected set)")]),
    ("{field: readiness_probe, required: true}",
     [("blue.yml", 1, 7, "deployment blue: readiness_probe is not set (expected set)")]),
    ("{field: environment_variables.API_TOKEN, forbidden: true}",
     [("blue.yml", 11, 3, "deployment blue: environment_variables.API_TOKEN is abc (expected not set)")]),
    # '*' tests every key of a mapping
    ("{field: 'environment_variables.*', not_matches: '^(hunter2|abc)$'}",
     [("blue.yml", 10, 17, "deployment blue: environment_variables.API_PASSWORD is hunter2 (expected ^(hunter2|abc)$)"),
      ("blue.yml", 11, 14, "deployment blue: environment_variables.API_TOKEN is abc (expected ^(hunter2|abc)$)")]),
    # combinators: all reports each failure, any the first child's, not the inner field
    ("{all: [{field: instance_count, min: 3}, {field: app_insights_enabled, equals: true}]}",
     [("blue.yml", 1, 7, "deployment blue: app_insights_enabled is false (expected true)"),
      ("blue.yml", 7, 17, "deployment blue: instance_count is 2 (expected 3)")]),
    ("{any: [{field: instance_count, min: 3}, {field: instance_type, matches: F4s}]}", []),
    ("{any: [{field: instance_count, min: 3}, {field: instance_type, matches: F8s}]}",
     [("blue.yml", 7, 17, "deployment blue: instance_count is 2 (expected 3)")]),
    ("{not: {field: 'environment.image', matches: minimal}}",
     [("blue.yml", 5, 10, ("deployment blue: environment.image is "
                          "mcr.microsoft.com/azureml/minimal-py312-inference:20260101.v1 (expected minimal)"))]),
])
def test_operators(project: Path, condition: str, expected: list) -> None:
    assert run(project, pack(rule("{resource: deployment, kind: managed}", condition))) == expected


def test_endpoint_defaults_and_kinds(project: Path) -> None:
    found = run(project, pack(
        rule("{resource: endpoint}", "{field: auth_mode, in: [aml_token, aad_token]}", "{kind} {name}: {value}")
        + rule("{resource: endpoint, kind: managed}", "{field: public_network_access, equals: disabled}",
               "{name} is {value}", rid="AML902", name="public-endpoint")))
    assert found == [
        ("endpoint.yml", 1, 7, "shop-ep is enabled"),           # absent: the default, at the name
        ("endpoint.yml", 2, 12, "managed shop-ep: key"),
        ("k8s/endpoint.yml", 3, 12, "kubernetes k8s-ep: key"),
    ]


def test_selectors(project: Path) -> None:
    cond = "{field: instance_count, min: 3}"
    msg = "{name}"
    assert run(project, pack(rule("{resource: deployment, name: 'bl*'}", cond, msg))) == [("blue.yml", 7, 17, "blue")]
    assert run(project, pack(rule("{resource: deployment, name: [x, 'P*']}", cond, msg))) == [
        ("k8s/pods.yml", 7, 17, "pods")]
    # a deployment inherits its endpoint's tags
    assert run(project, pack(rule("{resource: deployment, tags: {stage: PROD}}", cond, msg))) == [
        ("blue.yml", 7, 17, "blue")]
    assert run(project, pack(rule("{resource: deployment, tags: {stage: '*'}}", cond, msg))) == [
        ("blue.yml", 7, 17, "blue")]
    assert run(project, pack(rule("{resource: deployment, exclude: {tags: {stage: [dev, prod]}}}", cond, msg))) == [
        ("k8s/pods.yml", 7, 17, "pods")]
    assert run(project, pack(rule("{resource: deployment, exclude: {kind: kubernetes}}", cond, msg))) == [
        ("blue.yml", 7, 17, "blue")]
    # managed deployments take only the default scale type, so the spec model reads it as 'default'
    where = "{resource: deployment, where: {field: scale_settings.type, equals: default}}"
    assert run(project, pack(rule(where, cond, msg))) == [("blue.yml", 7, 17, "blue"), ("k8s/pods.yml", 7, 17, "pods")]
    where = "{resource: deployment, where: {field: environment.image, matches: ':latest$'}}"
    assert run(project, pack(rule(where, cond, msg))) == [("k8s/pods.yml", 7, 17, "pods")]
    # inline environments, with the kind of their deployment
    image = "{field: image, not_matches: ':latest$'}"
    assert run(project, pack(rule("{resource: environment, kind: kubernetes}", image, "{name} {endpoint}"))) == [
        ("k8s/pods.yml", 6, 10, "inline environment of deployment 'pods' k8s-ep")]


def test_profile_selector(project: Path) -> None:
    text = pack(rule("{resource: deployment, kind: managed, profile: prod}", "{field: instance_count, min: 3}"))
    assert run(project, text) == []
    assert len(run(project, text, profile="prod")) == 1


def test_list_index_paths(project: Path) -> None:
    (project / "endpoint.yml").write_text(ENDPOINT + "identity:\n  type: user_assigned\n  user_assigned_identities:\n"
                                          "    - resource_id: /subscriptions/x/uai/ml-prod\n")
    found = run(project, pack(rule("{resource: endpoint, kind: managed}",
                                   "{field: identity.user_assigned_identities.0.resource_id, matches: '/uai/ml-'}")))
    assert found == []
    found = run(project, pack(rule("{resource: endpoint, kind: managed}",
                                   "{field: 'identity.user_assigned_identities.*.resource_id', matches: 'other'}",
                                   "{field}")))
    assert found == [("endpoint.yml", 10, 20, "identity.user_assigned_identities.0.resource_id")]
