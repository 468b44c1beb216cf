"""``amlforge quota --live``: Azure ML usages -> the quota table and rules; ``--save`` -> the quota file.

The rows follow the REST example (Usage/list.json, api-version 2024-04-01): subscription VM family
rows, workspace rows (skipped), low-priority rows with limit -1 (skipped), the regional total.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.azure.arm_emulator import SUBSCRIPTION, Emulator, clusters_row, regional_row, usage_row
from tests.azure.conftest import azure_env, run_amlforge

LIVE = ("--live", "--subscription", SUBSCRIPTION, "--region", "westeurope")


def _usages(emu: Emulator, fsv2_usage: int = 10, fsv2_limit: int = 24) -> None:
    emu.usages[(SUBSCRIPTION, "westeurope")] = [
        clusters_row(SUBSCRIPTION, 7, 100),
        regional_row(SUBSCRIPTION, 14, 100),
        usage_row(SUBSCRIPTION, "Standard DSv2 Family", 2, 24),
        usage_row(SUBSCRIPTION, "Standard DSv2 Family", 2, 24, workspace="demo_workspace1"),
        usage_row(SUBSCRIPTION, "Standard FSv2 Family", fsv2_usage, fsv2_limit),
        usage_row(SUBSCRIPTION, "Standard FSv2 Family", 6, 24, workspace="demo_workspace1"),
        usage_row(SUBSCRIPTION, "Standard NCASv3_T4 Family", 0, 0),
        usage_row(SUBSCRIPTION, "Standard FSv2 Family", 18, -1, low_priority=True),
    ]


@pytest.fixture
def deployments(project: Path) -> Path:
    """The example's az-ml YAML: 2 deployments x 3 Standard_F4s_v2 -> 32 vCPUs of standardFSv2Family."""
    return project / "generated" / "azureml"


def test_live_quota_read_feeds_the_table(emulator: Emulator, deployments: Path, tmp_path: Path) -> None:
    _usages(emulator)
    result = run_amlforge(emulator, "quota", str(deployments), *LIVE, "--format", "json")
    assert result.returncode == 1, result.stderr  # 32 vCPUs needed, 24 - 10 = 14 available
    data = json.loads(result.stdout)
    assert data["source"] == "Azure Machine Learning usages API (live)"
    assert data["subscription"] == SUBSCRIPTION and data["region"] == "westeurope"
    (fsv2,) = data["families"]
    assert (fsv2["family"], fsv2["limit"], fsv2["usage"], fsv2["available"]) == ("standardFSv2Family", 24, 10, 14)
    assert fsv2["reserved_vcpus"] == 32 and fsv2["status"] == "over quota"
    assert "note: read 3 VM families of Azure Machine Learning quota live" in result.stderr
    assert "Total Cluster Dedicated Regional vCPUs: 32 reserved by this run, 86 available" in result.stderr
    # two pages: the emulator splits the rows and the client follows nextLink
    gets = emulator.requests("GET", "/usages")
    assert [g[2] for g in gets] == [200, 200] and "api-version=2024-04-01" in gets[0][1]


def test_live_and_saved_quota_give_identical_lint_results(emulator: Emulator, deployments: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _usages(emulator)
    saved = tmp_path / "quota.yaml"
    live_run = run_amlforge(emulator, "quota", str(deployments), *LIVE, "--save", str(saved), "--format", "json")
    assert saved.is_file() and f"saved them to {saved}" in live_run.stderr
    offline_run = run_amlforge(emulator, "quota", str(deployments), "--quota", str(saved), "--format", "json")
    live_table, offline_table = json.loads(live_run.stdout), json.loads(offline_run.stdout)
    assert live_run.returncode == offline_run.returncode == 1
    live_table.pop("source"), offline_table.pop("source")
    assert live_table == offline_table

    # the lint rules: figures read live (library path of --live) vs the saved file (--quota, as CI runs it)
    for key, value in azure_env(emulator).items():
        monkeypatch.setenv(key, value)
    from amlforge.integrations.azure.quota import LiveQuotaFile
    from amlforge.policies.engine import lint_paths

    live = LiveQuotaFile.read(SUBSCRIPTION, "westeurope", arm_endpoint=None, max_retries=0)
    try:
        live_findings = lint_paths([deployments], quota=live.path).findings
    finally:
        live.cleanup()
    saved_findings = lint_paths([deployments], quota=saved).findings
    as_rows = lambda findings: [(f.rule, str(f.location), f.severity.value, f.message) for f in findings]  # noqa: E731
    assert as_rows(live_findings) == as_rows(saved_findings)
    assert any(f.rule == "AML208" for f in live_findings), as_rows(live_findings)  # the over-quota finding

    offline_lint = run_amlforge(emulator, "lint", str(deployments), "--quota", str(saved))
    assert "AML208" in offline_lint.stdout and offline_lint.returncode == 1


def test_saved_file_is_the_quota_format(emulator: Emulator, deployments: Path, tmp_path: Path) -> None:
    from amlforge.specs.quota import load_quota

    _usages(emulator, fsv2_usage=8, fsv2_limit=48)
    saved = tmp_path / "ci" / "quota.yaml"
    result = run_amlforge(emulator, "quota", str(deployments), *LIVE, "--save", str(saved))
    assert result.returncode == 0, result.stderr  # 32 vCPUs needed, 48 - 8 = 40 available
    spec = load_quota(saved)
    assert spec.subscription == SUBSCRIPTION and spec.region == "westeurope"
    assert {k: (v.limit, v.usage) for k, v in spec.families.items()} == {
        "standardDSv2Family": (24, 2), "standardFSv2Family": (48, 8), "standardNCASv3_T4Family": (0, 0)}
    assert spec.family("standard NCASv3_T4 Family") is not None  # the catalog's spelling matches
    text = saved.read_text()
    assert "Total Cluster Dedicated Regional vCPUs: limit 100, usage 14" in text
    # deterministic: a second read of the same figures writes the same bytes
    run_amlforge(emulator, "quota", str(deployments), *LIVE, "--save", str(saved))
    assert saved.read_text() == text


def test_live_unknown_region_and_bad_options(emulator: Emulator, deployments: Path, tmp_path: Path) -> None:
    _usages(emulator)
    unknown = run_amlforge(emulator, "quota", str(deployments), "--live", "--subscription", SUBSCRIPTION,
                           "--region", "atlantis")
    assert unknown.returncode == 2
    assert "unknown region 'atlantis'" in unknown.stderr and "NoRegisteredProviderFound" in unknown.stderr
    no_region = run_amlforge(emulator, "quota", str(deployments), "--live", "--subscription", SUBSCRIPTION)
    assert no_region.returncode == 2 and "--live needs --region" in no_region.stderr
    both = run_amlforge(emulator, "quota", str(deployments), *LIVE, "--quota", str(tmp_path / "q.yaml"))
    assert both.returncode == 2 and "--live and --quota" in both.stderr
    save_only = run_amlforge(emulator, "quota", str(deployments), "--save", str(tmp_path / "q.yaml"))
    assert save_only.returncode == 2 and "add --live" in save_only.stderr
    assert len(emulator.requests("GET", "/usages")) == 1  # only the unknown region reached Azure


def test_live_quota_errors_are_mapped(emulator: Emulator, deployments: Path) -> None:
    from tests.azure.arm_emulator import FORBIDDEN_SUBSCRIPTION

    forbidden = run_amlforge(emulator, "quota", str(deployments), "--live", "--subscription", FORBIDDEN_SUBSCRIPTION,
                             "--region", "westeurope")
    assert forbidden.returncode == 2
    assert "no permission to read the Azure Machine Learning quota (HTTP 403 AuthorizationFailed)" in forbidden.stderr
    assert "Reader" in forbidden.stderr
    emulator.throttle = 1
    _usages(emulator)
    throttled = run_amlforge(emulator, "quota", str(deployments), *LIVE)
    assert throttled.returncode == 1 and "standardFSv2Family" in throttled.stdout  # retried, then read
