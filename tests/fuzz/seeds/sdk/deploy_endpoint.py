"""Fuzz seed: an online endpoint and a blue/green pair of deployments built with azure-ai-ml,
written for amlforge's fuzz campaign in the style of the public SDK samples."""

import os

from azure.ai.ml import MLClient
from azure.ai.ml.entities import (
    CodeConfiguration,
    Environment,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
    OnlineRequestSettings,
    ProbeSettings,
)
from azure.identity import DefaultAzureCredential

ENDPOINT = "fuzz-endpoint"
SKU = "Standard_DS3_v2"
TIMEOUT_MS = 5 * 1000

endpoint = ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key", tags={"team": "fuzz"})

env = Environment(
    name="fuzz-env",
    image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20250601.v1",
    conda_file="env/conda.yml",
)

blue = ManagedOnlineDeployment(
    name="blue",
    endpoint_name=ENDPOINT,
    model=Model(path="model", name="fuzz-model", version="1"),
    environment=env,
    code_configuration=CodeConfiguration(code="src", scoring_script="score.py"),
    instance_type=SKU,
    instance_count=2,
    environment_variables={"WORKER_COUNT": "1"},
    request_settings=OnlineRequestSettings(request_timeout_ms=TIMEOUT_MS, max_concurrent_requests_per_instance=1),
    liveness_probe=ProbeSettings(initial_delay=30, period=10, timeout=2, failure_threshold=30),
)
green = ManagedOnlineDeployment(
    name=f"{blue.name}-green",
    endpoint_name=ENDPOINT,
    model="azureml:fuzz-model:2",
    environment="azureml:fuzz-env:1",
    code_configuration=CodeConfiguration(code="src", scoring_script="score.py"),
    instance_type=SKU,
    instance_count=1,
)
endpoint.traffic = {"blue": 90, "blue-green": 10}

if __name__ == "__main__":
    ml_client = MLClient(DefaultAzureCredential(), os.environ["SUBSCRIPTION"], "rg", "ws")
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    for deployment in (blue, green):
        ml_client.online_deployments.begin_create_or_update(deployment).result()
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
