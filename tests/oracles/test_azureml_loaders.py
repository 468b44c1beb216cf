"""The official azure-ai-ml loaders are the YAML oracle (no current az-ml JSON Schema exists offline).

1. Every shipped example loads with azure-ai-ml (both stages: the marshmallow load and the checks
   the SDK runs before sending) and with amlforge (no input or schema findings).
2. Differential: over mutated YAMLs, whatever azure-ai-ml rejects, amlforge rejects too
   (a finding at the default fail level, i.e. exit code != 0).
"""

from __future__ import annotations

import copy
import logging
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from amlforge.policies.engine import lint_paths
from tests.conftest import EXAMPLES

aml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is a test dependency: pip install -e '.[test]'")
warnings.filterwarnings("ignore")
logging.getLogger("azure").setLevel(logging.CRITICAL)

KINDS = {
    "managedOnlineEndpoint": "endpoint",
    "kubernetesOnlineEndpoint": "endpoint",
    "managedOnlineDeployment": "deployment",
    "kubernetesOnlineDeployment": "deployment",
    "environment": "environment",
    "model": "model",
}


def sdk_load(path: Path, kind: str) -> Any:
    """Load with azure-ai-ml and run its pre-send checks; raises what the SDK raises."""
    if kind == "endpoint":
        obj = aml.load_online_endpoint(path)
        obj._to_rest_online_endpoint(location="westeurope")
    elif kind == "deployment":
        obj = aml.load_online_deployment(path)
        obj._to_rest_object(location="westeurope")
        if obj.environment is not None and not isinstance(obj.environment, str):
            obj.environment.validate()
    elif kind == "environment":
        obj = aml.load_environment(path)
        obj.validate()
    else:
        obj = aml.load_model(path)
    return obj


def _example_files() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict):
            continue
        schema = str(data.get("$schema", ""))
        kind = next((v for k, v in KINDS.items() if schema.endswith(f"/{k}.schema.json")), None)
        if kind:
            out.append((path, kind))
    return out


EXAMPLE_FILES = _example_files()


def test_there_are_examples() -> None:
    kinds = {k for _, k in EXAMPLE_FILES}
    assert {"endpoint", "deployment", "environment", "model"} <= kinds
    assert len(EXAMPLE_FILES) >= 12


@pytest.mark.parametrize(("path", "kind"), EXAMPLE_FILES, ids=[str(p.relative_to(EXAMPLES)) for p, _ in EXAMPLE_FILES])
def test_example_loads_with_azure_ai_ml_and_amlforge(path: Path, kind: str) -> None:
    obj = sdk_load(path, kind)
    report = lint_paths([path], root=EXAMPLES.parent)
    schema_findings = [f for f in report.findings if f.rule[3] in "01"]
    assert not schema_findings, [f"{f.location} {f.rule} {f.message}" for f in schema_findings]
    doc = report.project.documents[0]
    assert doc.spec is not None
    # the objects agree on the basics
    if kind in ("endpoint", "deployment", "environment", "model"):
        assert getattr(obj, "name", None) == getattr(doc.spec, "name", None)
    if kind == "deployment":
        assert obj.instance_type == doc.spec.instance_type
        assert obj.instance_count == doc.spec.instance_count
    if kind == "endpoint":
        assert (obj.traffic or {}) == (doc.spec.traffic or {})
        assert obj.auth_mode == doc.spec.auth_mode


# ---------------------------------------------------------------------------------------------
# Differential test

Mutation = Callable[[Any], Any]


def _set(path: str, value: Any) -> Mutation:
    def apply(doc: dict) -> dict:
        target = doc
        parts = path.split(".")
        for p in parts[:-1]:
            target = target.setdefault(p, {})
        target[parts[-1]] = value
        return doc
    return apply


def _drop(path: str) -> Mutation:
    def apply(doc: dict) -> dict:
        target = doc
        parts = path.split(".")
        for p in parts[:-1]:
            target = target[p]
        target.pop(parts[-1], None)
        return doc
    return apply


def _rename(old: str, new: str) -> Mutation:
    def apply(doc: dict) -> dict:
        doc[new] = doc.pop(old)
        return doc
    return apply


def _replace(value: Any) -> Mutation:
    return lambda doc: value


BLUE = ("sklearn-blue-green", "blue.yml", "deployment")
ENDPOINT = ("sklearn-blue-green", "endpoint.yml", "endpoint")
K8S = ("kubernetes", "deployment.yml", "deployment")
ENV = ("custom-container", "environment.yml", "environment")
INLINE_ENV = {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1",
              "conda_file": "environment/conda.yaml"}

MUTATIONS: list[tuple[str, tuple[str, str, str], Mutation]] = [
    ("unknown-top-level-field", BLUE, _set("instance_typ", "Standard_DS3_v2")),
    ("camel-case-arm-key", BLUE, _rename("instance_type", "instanceType")),
    ("resources-on-managed", BLUE, _set("resources", {"requests": {"cpu": "1", "memory": "1Gi"}})),
    ("unknown-probe-key", BLUE, _set("liveness_probe.perid", 10)),
    ("instance-type-int", BLUE, _set("instance_type", 123)),
    ("instance-count-word", BLUE, _set("instance_count", "two")),
    ("timeout-word", BLUE, _set("request_settings.request_timeout_ms", "abc")),
    ("probe-period-iso", BLUE, _set("liveness_probe.period", "PT10S")),
    ("missing-name", BLUE, _drop("name")),
    ("missing-endpoint-name", BLUE, _drop("endpoint_name")),
    ("missing-instance-type", BLUE, _drop("instance_type")),
    ("scale-type-manual", BLUE, _set("scale_settings", {"type": "manual"})),
    ("scale-default-with-min", BLUE, _set("scale_settings", {"type": "default", "min_instances": 1})),
    ("scale-target-utilization-on-managed", BLUE, _set("scale_settings", {"type": "target_utilization"})),
    ("type-typo", BLUE, _set("type", "kubernetess")),
    ("egress-maybe", BLUE, _set("egress_public_network_access", "maybe")),
    ("model-without-prefix", BLUE, _set("model", "my-model:1")),
    ("scoring-script-missing", BLUE, _set("code_configuration", {"code": "onlinescoring"})),
    ("deployment-name-symbols", BLUE, _set("name", "Blue_Dep!")),
    ("deployment-name-too-long", BLUE, _set("name", "b" * 33)),
    ("env-image-and-build", BLUE, _set("environment", {**INLINE_ENV, "build": {"path": "onlinescoring"}})),
    ("env-neither-image-nor-build", BLUE, _set("environment", {"conda_file": "environment/conda.yaml"})),
    ("conda-file-missing", BLUE, _set("environment", {**INLINE_ENV, "conda_file": "environment/nope.yaml"})),
    ("request-settings-list", BLUE, _set("request_settings", [1, 2])),
    ("document-is-list", BLUE, _replace([{"name": "blue"}])),
    ("auth-mode-keys", ENDPOINT, _set("auth_mode", "keys")),
    ("public-network-maybe", ENDPOINT, _set("public_network_access", "maybe")),
    ("identity-type-foo", ENDPOINT, _set("identity", {"type": "foo"})),
    ("endpoint-name-symbols", ENDPOINT, _set("name", "My_Endpoint!")),
    ("endpoint-name-digit-first", ENDPOINT, _set("name", "1endpoint")),
    ("traffic-over-100", ENDPOINT, _set("traffic", {"blue": 100, "green": 50})),
    ("traffic-word", ENDPOINT, _set("traffic", {"blue": "all"})),
    ("traffic-list", ENDPOINT, _set("traffic", ["blue"])),
    ("endpoint-unknown-field", ENDPOINT, _set("auth", "key")),
    ("endpoint-missing-name", ENDPOINT, _drop("name")),
    ("two-user-identities", ENDPOINT, _set("identity", {
        "type": "user_assigned",
        "user_assigned_identities": [
            {"resource_id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"},
            {"resource_id": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b"},
        ]})),
    ("k8s-unquoted-cpu", K8S, _set("resources.requests.cpu", 0.5)),
    ("k8s-unknown-resource-key", K8S, _set("resources.requests.cpus", "1")),
    ("k8s-registry-model", K8S, _set("model", "azureml://registries/azureml/models/m/versions/1")),
    ("data-collector-version-int", BLUE, _set("data_collector", {"collections": {"model_inputs": {
        "enabled": "True", "data": {"name": "d", "path": "azureml://datastores/workspaceblobstore/paths/x",
                                    "version": 1}}}})),
    ("env-unknown-field", ENV, _set("imagee", "python:3.11")),
    ("env-neither", ENV, _drop("build")),
    ("env-both", ENV, _set("image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1")),
]


def _materialise(tmp_path: Path, base: tuple[str, str, str], mutate: Mutation) -> Path:
    folder, name, _ = base
    project = tmp_path / folder
    shutil.copytree(EXAMPLES / folder, project)
    (project / ".amlforge.toml").write_text("")
    path = project / name
    doc = mutate(copy.deepcopy(yaml.safe_load(path.read_text())))
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _sdk_rejects(path: Path, kind: str) -> str | None:
    try:
        sdk_load(path, kind)
    except Exception as e:  # noqa: BLE001 - any SDK error counts as a rejection
        return f"{type(e).__name__}: {str(e)[:200]}"
    return None


@pytest.mark.parametrize(("name", "base", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_amlforge_rejects_what_azure_ai_ml_rejects(tmp_path: Path, name: str, base, mutate) -> None:
    path = _materialise(tmp_path, base, mutate)
    sdk_error = _sdk_rejects(path, base[2])
    report = lint_paths([path], root=path.parent)
    ours = [f"{f.location} {f.rule} {f.message}" for f in report.findings]
    if sdk_error is not None:
        assert report.exit_code != 0, f"azure-ai-ml rejects ({sdk_error}) but amlforge passes"
        return
    # the SDK let it through: amlforge may still reject it (a service-side rule), record which
    assert isinstance(ours, list)


def test_differential_covers_at_least_30_sdk_rejections(tmp_path: Path) -> None:
    rejected = 0
    for i, (name, base, mutate) in enumerate(MUTATIONS):
        path = _materialise(tmp_path / str(i), base, mutate)
        if _sdk_rejects(path, base[2]) is not None:
            rejected += 1
    assert rejected >= 30, f"only {rejected} of the mutations are rejected by azure-ai-ml"
