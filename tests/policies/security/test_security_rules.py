"""Security area: exact positions, secret detection without false positives, reference syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.policies.security._helpers import secret_reference_kind
from amlforge.policies.security.secret_in_environment_variables import (
    _NOT_SECRET,
    _secret_name,
    _shape,
)

DEPLOYMENT = """\
name: blue
endpoint_name: pos-endpoint
model: azureml:iris:3
code_configuration:
  code: azureml:scoring-code:1
  scoring_script: score.py
environment: azureml:iris-env:2
instance_type: Standard_F4s_v2
instance_count: 3
environment_variables:
  WORKER_COUNT: "1"
  DB_PASSWORD: hunter2
  OPENAI_KEY: ${{azureml://connections/aoai/credentials/key}}
  SEARCH_KEY: ${{azureml://connection/search/credentials/key}}
"""

ENDPOINT = """\
name: pos-endpoint
compute: azureml:aks
auth_mode: aad_token
"""


def test_findings_point_at_the_values(tmp_path: Path) -> None:
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    (tmp_path / "endpoint.yml").write_text(ENDPOINT)
    (tmp_path / ".amlforge.toml").write_text("")
    report = lint_paths([tmp_path], root=tmp_path)
    found = {(f.rule, Path(f.location.file).name, f.location.line, f.location.column) for f in report.findings}
    assert ("AML701", "blue.yml", 12, 16) in found  # DB_PASSWORD's value
    assert ("AML708", "blue.yml", 14, 15) in found  # the malformed reference
    assert ("AML704", "endpoint.yml", 3, 12) in found  # auth_mode on a Kubernetes endpoint
    assert not any(r == "AML701" and line == 13 for r, _, line, _ in found)  # a reference is not a secret


@pytest.mark.parametrize("value", [
    "Standard_DS3_v2",
    "/var/azureml-app/azureml-models/model/1",
    "00000000-0000-0000-0000-000000000000",
    "8f14e45fceea167a5a36dedd4bea25438f14e45fceea167a5a36dedd4bea2543",
    "https://contoso.openai.azure.com/",
    "AzureMLOnlineEndpointsBlueDeploymentV2Final01",
    "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/",
])
def test_ordinary_values_do_not_look_like_secrets(value: str) -> None:
    assert _shape(value) is None


@pytest.mark.parametrize("value", [
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=bm90LWEtcmVhbC1rZXktanVzdC1hLXRlc3Q=",
    "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=bm90LWEtcmVhbC1rZXk=",
    "https://a.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=bm90LWEtcmVhbC1zaWduYXR1cmU%3D",
    "sk-proj-Zm9yLXRlc3RzLW9ubHktbm90LWEta2V5",
    "AKIAZZZZZZZZZZZZZZZZ",
])
def test_credential_shapes(value: str) -> None:
    assert _shape(value) is not None


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("DB_PASSWORD", "hunter2", True),
    ("clientSecret", "x", True),
    ("AZURE_STORAGE_CONNECTION_STRING", "x", True),
    ("MAX_TOKENS", "512", False),
    ("SECRET_NAME", "db-password", False),
    ("SORT_KEY", "timestamp", False),
    ("OPENAI_API_KEY", "short", True),
])
def test_secret_names(name: str, value: str, secret: bool) -> None:
    assert _secret_name(name, value) == secret


def test_literal_values_that_are_not_secrets() -> None:
    for value in ("true", "512", "{{DB_PASSWORD}}", "https://contoso-kv.vault.azure.net/secrets/db"):
        assert _NOT_SECRET.match(value)


@pytest.mark.parametrize(("value", "kind"), [
    ("${{azureml://connections/aoai}}", "connection"),
    ("${{azureml://connections/aoai/credentials/key}}", "connection"),
    ("${{azureml://connections/aoai/metadata/OPENAI_API_VERSION}}", "connection"),
    ("${{azureml://connections/aoai/target}}", "connection"),
    ("${{keyvault:https://kv1.vault.azure.net/secrets/db/0123abcd}}", "keyvault"),
    ("${{keyvault:https://kv1.vault.azure.net/secrets/db}}", None),
    ("${{azureml://connection/aoai/credentials/key}}", None),
])
def test_secret_reference_syntax(value: str, kind: str | None) -> None:
    assert secret_reference_kind(value) == kind
