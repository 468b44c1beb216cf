"""amlforge smoke on MLflow no-code deployments: the model's own conda file, the real server.

A small real MLflow model (scikit-learn) is saved here with MLflow itself, in a cached smoke
environment; `amlforge smoke deployment.yml` then builds the deployment's environment from the
model's conda file as the platform does (plus the inference server) and scores the sample
request through amlforge's stand-in for the platform's MLflow scorer. The failing case is the
2026 one: a model conda file without azureml-ai-monitoring, which the platform's scorer imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from amlforge.integrations.inference_server import ensure_smoke_python

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "smoke_fixtures"
MODEL_REQUIREMENTS = [
    "mlflow-skinny==2.17.2",
    "scikit-learn==1.6.1",
    "numpy==2.2.6",
    "pandas==2.2.3",
    "cloudpickle==3.1.1",
    "azureml-ai-monitoring==1.0.0",
]
DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: mlflow-v1
endpoint_name: tree-mlflow
model:
  path: ./model
  type: mlflow_model
instance_type: Standard_F4s_v2
instance_count: 1
readiness_probe:
  initial_delay: 1
  period: 1
  failure_threshold: 120
"""
SAMPLE = {"input_data": {"columns": [0, 1], "index": [0, 1], "data": [[1.0, 1.0], [0.0, 0.0]]}}


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("AMLFORGE_CACHE_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def mlflow_python(cache_root: Path) -> Path:
    """The environment the deployment's conda file describes (built once; the smoke run reuses it)."""
    start = time.monotonic()
    python = ensure_smoke_python(MODEL_REQUIREMENTS, cache_root / "smoke")
    print(f"\nmlflow smoke environment: {time.monotonic() - start:.1f} s")
    return python


def _project(tmp: Path, python: Path, requirements: list[str]) -> Path:
    subprocess.run([str(python), str(FIXTURES / "train_mlflow.py"), str(tmp / "model"), *requirements],
                   check=True, timeout=300, capture_output=True)
    (tmp / "deployment.yml").write_text(DEPLOYMENT)
    (tmp / "sample-request.json").write_text(json.dumps(SAMPLE))
    return tmp / "deployment.yml"


def _smoke(deployment: Path, cache_root: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "AMLFORGE_CACHE_DIR": str(cache_root)}
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "amlforge", "smoke", str(deployment), "--format", "json", "-q"],
                            capture_output=True, text=True, env=env, timeout=1500, cwd=deployment.parent)
    return result, time.monotonic() - start


def test_no_code_mlflow_deployment_scores_in_the_real_server(tmp_path: Path, mlflow_python: Path,
                                                             cache_root: Path) -> None:
    deployment = _project(tmp_path, mlflow_python, MODEL_REQUIREMENTS)
    conda = (tmp_path / "model" / "conda.yaml").read_text()
    assert "azureml-ai-monitoring==1.0.0" in conda  # MLflow wrote the requirements we gave it
    result, seconds = _smoke(deployment, cache_root)
    print(f"amlforge smoke (warm environment): {seconds:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["status_code"] == 200
    assert json.loads(data["response_body"]) == [1, 0]
    assert any("no-code MLflow deployment" in n for n in data["notes"])


def test_model_conda_without_ai_monitoring_fails_as_in_azure(tmp_path: Path, mlflow_python: Path,
                                                              cache_root: Path) -> None:
    deployment = _project(tmp_path, mlflow_python, MODEL_REQUIREMENTS)
    # The platform's scorer fails at its first import, before MLflow loads anything, so a small
    # conda file without azureml-ai-monitoring shows the failure without a second MLflow build.
    conda = tmp_path / "model" / "conda.yaml"
    data = yaml.safe_load(conda.read_text())
    pip = next(d for d in data["dependencies"] if isinstance(d, dict))
    pip["pip"] = [r for r in pip["pip"] if not r.startswith(("mlflow", "pandas", "cloudpickle", "azureml-ai"))]
    conda.write_text(yaml.safe_dump(data, sort_keys=False))
    assert pip["pip"] == ["scikit-learn==1.6.1", "numpy==2.2.6"]
    result, seconds = _smoke(deployment, cache_root)
    print(f"amlforge smoke (cold environment, without azureml-ai-monitoring): {seconds:.1f} s")
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["azure_error"] == "ResourceNotReady"
    assert "azureml.ai" in (data.get("message", "") + (data.get("log_excerpt") or ""))


def test_no_code_deployment_of_a_model_without_pyfunc_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors:\n  transformers: {}\nmlflow_version: 2.17.2\n")
    (tmp_path / "deployment.yml").write_text(DEPLOYMENT)
    result = subprocess.run([sys.executable, "-m", "amlforge", "smoke", "deployment.yml"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "python_function" in result.stderr and "Traceback" not in result.stderr
