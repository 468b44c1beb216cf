"""Clear errors, never a traceback: credentials, permission, unknown subscription or group,
throttling (retried with backoff, then given up), network failures, TLS, a missing extra."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.azure.arm_emulator import FORBIDDEN_SUBSCRIPTION, RESOURCE_GROUP, SUBSCRIPTION, UNKNOWN_SUBSCRIPTION, Emulator
from tests.azure.conftest import TARGET, azure_env, run_amlforge
from tests.conftest import ROOT


def _validate(emu: Emulator, template: Path, *options: str, **env: str):
    return run_amlforge(emu, "azure", "validate", str(template), *options, **env)


def test_401_rejected_token(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, *TARGET, AMLFORGE_AZURE_TOKEN="expired-token")
    assert result.returncode == 2
    assert "error: Azure rejected the credentials (HTTP 401 InvalidAuthenticationToken)" in result.stderr
    assert "hint: sign in again ('az login')" in result.stderr


def test_403_no_permission(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, "--subscription", FORBIDDEN_SUBSCRIPTION, "-g", RESOURCE_GROUP)
    assert result.returncode == 2
    assert "error: no permission to validate the template (HTTP 403 AuthorizationFailed)" in result.stderr
    assert "Contributor" in result.stderr


def test_404_unknown_subscription(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, "--subscription", UNKNOWN_SUBSCRIPTION, "-g", RESOURCE_GROUP)
    assert result.returncode == 2
    assert f"error: unknown subscription '{UNKNOWN_SUBSCRIPTION}' (HTTP 404 SubscriptionNotFound)" in result.stderr
    assert "az account list" in result.stderr


def test_404_unknown_resource_group(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, "--subscription", SUBSCRIPTION, "-g", "rg-missing")
    assert result.returncode == 2
    assert "resource group 'rg-missing' does not exist" in result.stderr and "ResourceGroupNotFound" in result.stderr
    assert "az group create -n rg-missing" in result.stderr


def test_malformed_subscription_is_caught_before_any_request(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, "--subscription", "my-sub", "-g", RESOURCE_GROUP)
    assert result.returncode == 2 and "is a subscription id (a GUID)" in result.stderr
    assert emulator.log == []


def test_429_is_retried_after_retry_after_then_succeeds(emulator: Emulator, template: Path) -> None:
    emulator.throttle = 2  # Retry-After: 1 each time
    result = _validate(emulator, template, *TARGET, "--no-preflight")
    assert result.returncode == 0, result.stderr
    statuses = [s for m, p, s in emulator.log if m == "POST"]
    assert statuses == [429, 429, 202]
    assert result.seconds >= 2.0  # azure-core waited the Retry-After twice


def test_429_on_a_pre_flight_read_is_retried_the_same_way(emulator: Emulator, template: Path) -> None:
    """The pre-flight client (azure-mgmt-resource) gets the same retry policy as the deployments client."""
    emulator.throttle = 2
    result = _validate(emulator, template, *TARGET)
    assert result.returncode == 0, result.stderr
    first = emulator.log[:3]
    assert all(m == "GET" and f"/resourcegroups/{RESOURCE_GROUP}?" in p for m, p, _ in first)
    assert [s for _, _, s in first] == [429, 429, 200]
    assert result.seconds >= 2.0
    assert "pre-flight: resource group 'rg-aml-examples' (westeurope)" in result.stderr
    assert [s for m, p, s in emulator.log if m == "POST"] == [202]


def test_429_gives_up_after_the_retries(emulator: Emulator, template: Path) -> None:
    emulator.throttle = 50
    result = _validate(emulator, template, *TARGET, "--max-retries", "1", "--no-preflight")
    assert result.returncode == 2
    assert "Azure kept throttling the requests to validate the template (HTTP 429 SubscriptionRequestsThrottled)" \
        in result.stderr
    assert "azure-core retried once with backoff and gave up" in result.stderr
    assert "--max-retries" in result.stderr
    assert len(emulator.log) == 2  # the request and one retry, nothing more


def test_pre_flight_throttled_past_the_retries_is_a_note(emulator: Emulator, template: Path) -> None:
    """Reads are throttled apart from writes: a pre-flight that gives up does not stop the operation."""
    emulator.throttle = 2
    result = _validate(emulator, template, *TARGET, "--max-retries", "1")
    assert result.returncode == 0, result.stderr
    assert ("note: pre-flight could not read resource group 'rg-aml-examples' (HTTP 429 "
            "SubscriptionRequestsThrottled, retried once); the remaining checks are left to Azure Resource Manager"
            ) in result.stderr
    assert "valid: Azure Resource Manager accepts the template" in result.stdout
    assert [(m, s) for m, p, s in emulator.log][:3] == [("GET", 429), ("GET", 429), ("POST", 202)]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_network_failure_closed_port(emulator: Emulator, template: Path) -> None:
    endpoint = f"https://127.0.0.1:{_closed_port()}"
    # the first request is pre-flight's: the operation would fail just the same, so it stops there
    result = _validate(emulator, template, *TARGET, "--max-retries", "1", "--arm-endpoint", endpoint)
    assert result.returncode == 2
    assert (f"error: cannot reach Azure Resource Manager at {endpoint} to read resource group 'rg-aml-examples' "
            "before validating the template (retried once)") in result.stderr
    assert "Connection refused" in result.stderr
    assert "AMLFORGE_ARM_ENDPOINT" in result.stderr
    result = _validate(emulator, template, *TARGET, "--max-retries", "1", "--arm-endpoint", endpoint,
                       "--no-preflight")
    assert result.returncode == 2
    assert f"error: cannot reach Azure Resource Manager at {endpoint} to validate the template (retried once)" \
        in result.stderr


def test_untrusted_certificate(emulator: Emulator, template: Path) -> None:
    system = "/etc/ssl/certs/ca-certificates.crt"
    if not Path(system).is_file():
        pytest.skip("no system CA bundle")
    result = _validate(emulator, template, *TARGET, "--max-retries", "0", REQUESTS_CA_BUNDLE=system,
                       CURL_CA_BUNDLE=system)
    assert result.returncode == 2
    assert f"the TLS certificate of {emulator.endpoint} is not trusted" in result.stderr
    assert "REQUESTS_CA_BUNDLE" in result.stderr
    assert emulator.log == []


def test_plain_http_endpoint_is_refused(emulator: Emulator, template: Path) -> None:
    result = _validate(emulator, template, *TARGET, "--arm-endpoint", "http://127.0.0.1:1")
    assert result.returncode == 2
    assert "--arm-endpoint must be an https URL" in result.stderr


def test_missing_extra_says_which_to_install(emulator: Emulator, template: Path) -> None:
    """Without the Azure SDK packages of the extra: 'install amlforge[azure]', exit 2."""
    blocker = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "azure.mgmt.resource.deployments" or name.startswith("azure.mgmt.resource.deployments.") \\
                        or name == "azure.identity" or name.startswith("azure.identity."):
                    raise ModuleNotFoundError(f"No module named '{name}'")
                return None
        sys.meta_path.insert(0, Block())
        from amlforge.cli import main
        main(sys.argv[1:])
    """)
    env = azure_env(emulator)
    for args in (["azure", "validate", str(template), *TARGET],
                 ["azure", "what-if", str(template), *TARGET]):
        result = subprocess.run([sys.executable, "-c", blocker, *args], cwd=ROOT, capture_output=True, text=True,
                                timeout=60, env=env)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "pip install 'amlforge[azure]'" in result.stderr
    # DefaultAzureCredential needs azure-identity: without the test token, the same message
    env.pop("AMLFORGE_AZURE_TOKEN")
    result = subprocess.run([sys.executable, "-c", blocker, "quota", "--live", "--subscription", SUBSCRIPTION,
                             "--region", "westeurope"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "pip install 'amlforge[azure]'" in result.stderr
    assert "azure.identity is not installed" in result.stderr
    assert emulator.log == []


def test_no_credentials_message() -> None:
    """What DefaultAzureCredential raises when nothing can sign in (made here: probing for real would
    reach the network) -> a message that says how to sign in."""
    from azure.core.exceptions import ClientAuthenticationError

    from amlforge.errors import UserInputError
    from amlforge.integrations.azure.errors import Call, translate

    exc = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: EnvironmentCredential authentication unavailable.")
    error = translate(exc, Call("validate the template", "https://management.azure.com"))
    assert isinstance(error, UserInputError)
    assert error.message == ("no Azure credentials: DefaultAzureCredential failed to retrieve a token from the "
                             "included credentials.")
    assert "az login" in error.hint and "AZURE_CLIENT_ID" in error.hint
