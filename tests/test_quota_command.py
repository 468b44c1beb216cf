"""``amlforge quota``: the per-family vCPU table, its numbers, exit codes and errors.

The numbers come from the reference (section 2.1): the docs' worked example (10 x
Standard_DS3_v2 needs 12 x 4 = 48 vCPUs) and the rounding table of ceil(1.2 x n), computed
as (6n + 4) // 5.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: {endpoint}
model: azureml:sklearn-model:3
code_configuration:
  code: azureml:scoring-code:1
  scoring_script: score.py
environment: azureml:sklearn-env:4
instance_type: {sku}
instance_count: {count}
"""
ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: {name}
auth_mode: key
"""

#: instance_count -> instances of quota needed (reference section 2.1).
ROUNDING = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 8, 10: 12, 20: 24, 50: 60}


def _write(folder: Path, deployments: list[tuple[str, str, str, int]], quota: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for endpoint in sorted({d[1] for d in deployments}):
        (folder / f"{endpoint}.yml").write_text(ENDPOINT.format(name=endpoint))
    for name, endpoint, sku, count in deployments:
        (folder / f"{endpoint}-{name}.yml").write_text(
            DEPLOYMENT.format(name=name, endpoint=endpoint, sku=sku, count=count))
    if quota is not None:
        (folder / "quota.yaml").write_text(quota)
    return folder


def _json(*args: str) -> tuple[int, dict]:
    result = run_cli("quota", *args, "--format", "json")
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_worked_example_10_ds3_v2_needs_48_vcpus(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", [("blue", "my-endpoint", "Standard_DS3_v2", 10)])
    code, data = _json(str(project))
    assert code == 0  # no quota file: CPU families are not checked
    (family,) = data["families"]
    assert family["family"] == "standardDSv2Family"
    assert family["instances"] == 10
    assert family["reserved_instances"] == 12
    assert family["reserved_vcpus"] == 48
    assert family["deployments"][0]["vcpus_per_instance"] == 4
    assert family["status"] == "no quota figures"
    text = run_cli("quota", str(project))
    assert text.returncode == 0
    assert "48" in text.stdout and "10 x Standard_DS3_v2 -> 12 instances" in text.stdout


def test_rounding_table(tmp_path: Path) -> None:
    deployments = [(f"n{n}", "rounding", "Standard_F4s_v2", n) for n in ROUNDING]
    project = _write(tmp_path / "p", deployments)
    code, data = _json(str(project))
    assert code == 0
    (family,) = data["families"]
    by_count = {d["instance_count"]: d for d in family["deployments"]}
    for n, instances in ROUNDING.items():
        assert (6 * n + 4) // 5 == instances
        assert by_count[n]["reserved_instances"] == instances, n
        assert by_count[n]["reserved_vcpus"] == instances * 4, n
    assert family["reserved_vcpus"] == sum(ROUNDING.values()) * 4


def test_exempt_gpu_sku_reserves_no_extra(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", [("gpu", "llm", "Standard_NC24ads_A100_v4", 2)])
    code, data = _json(str(project))
    (family,) = data["families"]
    assert family["reserved_vcpus"] == 48  # 2 x 24, no 20% reserve for this SKU
    assert family["gpu"] is True
    assert family["status"] == "GPU quota 0 unless raised"
    assert code == 0  # a warning, not a known limit


def test_sums_across_endpoints_and_exits_1_over_quota(tmp_path: Path) -> None:
    quota = "region: westeurope\nfamilies:\n  standardDSv2Family: {limit: 100, usage: 60}\n"
    project = _write(tmp_path / "p", [
        ("blue", "fraud", "Standard_DS3_v2", 3),   # 4 x 4 = 16
        ("blue", "churn", "Standard_DS4_v2", 3),   # 4 x 8 = 32
    ], quota)
    code, data = _json(str(project), "--quota", str(project / "quota.yaml"))
    assert code == 1
    (family,) = data["families"]
    assert (family["reserved_vcpus"], family["available"], family["limit"], family["usage"]) == (48, 40, 100, 60)
    assert family["status"] == "over quota"
    assert data["over_quota"] is True
    text = run_cli("quota", str(project), "--quota", str(project / "quota.yaml"))
    assert text.returncode == 1
    assert "OVER QUOTA" in text.stdout


def test_quota_file_from_configuration(tmp_path: Path) -> None:
    quota = "families:\n  standardDSv2Family: {limit: 48, usage: 0}\n"
    project = _write(tmp_path / "p", [("blue", "my-endpoint", "Standard_DS3_v2", 10)], quota)
    (project / ".amlforge.toml").write_text('quota = "quota.yaml"\n')
    code, data = _json(str(project))
    assert code == 0
    assert data["families"][0]["status"] == "ok"
    assert data["families"][0]["available"] == 48


def test_counts_endpoints_and_deployments(tmp_path: Path) -> None:
    quota = "endpoints: {limit: 100, usage: 99}\ndeployments_per_endpoint: 1\n"
    project = _write(tmp_path / "p", [
        ("blue", "fraud", "Standard_F4s_v2", 3),
        ("green", "fraud", "Standard_F4s_v2", 3),
        ("blue", "churn", "Standard_F4s_v2", 3),
    ], quota)
    code, data = _json(str(project), "--quota", str(project / "quota.yaml"))
    assert code == 1
    assert data["endpoints"] == {"count": 2, "usage": 99, "limit": 100, "available": 1, "status": "over quota"}
    assert data["deployments"]["count"] == 3
    per = {e["endpoint"]: e for e in data["deployments_per_endpoint"]}
    assert per["fraud"]["status"] == "over quota" and per["churn"]["status"] == "ok"


def test_rule_and_command_agree(tmp_path: Path) -> None:
    quota = "families:\n  standardDSv2Family: {limit: 40, usage: 0}\n"
    project = _write(tmp_path / "p", [("blue", "my-endpoint", "Standard_DS3_v2", 10)], quota)
    lint = run_cli("lint", str(project), "--quota", str(project / "quota.yaml"), "--select", "AML208",
                   "--format", "json")
    data = json.loads(lint.stdout)
    findings = data["findings"] if isinstance(data, dict) else data
    assert [f["rule"] for f in findings] == ["AML208"]
    assert "needs 48 vCPUs but 40 are available" in findings[0]["message"]
    assert findings[0]["prevents"] == ["OutOfQuota"]


@pytest.mark.parametrize(("args", "needle"), [
    (["does-not-exist"], "no such file or directory"),
    (["{p}", "--quota", "{p}/missing.yaml"], "no such file"),
    (["{p}", "--quota", "{p}/bad-quota.yaml"], "greater than or equal to 0"),
])
def test_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], needle: str) -> None:
    project = _write(tmp_path / "p", [("blue", "my-endpoint", "Standard_DS3_v2", 1)])
    (project / "bad-quota.yaml").write_text("families:\n  standardDSv2Family: {limit: -4}\n")
    result = run_cli("quota", *[a.format(p=project) for a in args])
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_yaml_is_reported_and_exits_2(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", [("blue", "my-endpoint", "Standard_DS3_v2", 1)])
    (project / "broken.yml").write_text("name: x\nendpoint_name: [\n")
    result = run_cli("quota", str(project))
    assert result.returncode == 2
    assert "broken.yml:3:1" in result.stderr and "not counted" in result.stderr
    assert "Traceback" not in result.stderr
