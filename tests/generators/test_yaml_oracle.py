"""Oracle: the generated az-ml YAML loads with the official azure-ai-ml loaders (both stages),
the objects they build match the spec, and the REST bodies the SDK would send for them agree
with the generated ARM template (so YAML and ARM deploy the same thing). See oracles.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.generators.conftest import SPEC_IDS, SPECS
from tests.generators.oracles import check_yaml
from tests.generators.semantics import evaluate_arm

pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is a test dependency: pip install -e '.[test]'")


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_yaml_loads_with_azure_ai_ml_and_matches_spec(spec_path: Path, rendered: Any) -> None:
    out, loaded, files = rendered(spec_path)
    check_yaml(out, loaded, files, evaluate_arm(json.loads(files["arm/azuredeploy.json"])))


def test_schema_lines_name_the_right_kind(rendered: Any) -> None:
    _, _, files = rendered(SPECS[-1])
    schemas = {rel: yaml.safe_load(text)["$schema"].rsplit("/", 1)[-1] for rel, text in files.items()
               if rel.startswith("azureml/")}
    assert schemas["azureml/showcase-managed.endpoint.yml"] == "managedOnlineEndpoint.schema.json"
    assert schemas["azureml/showcase-k8s.endpoint.yml"] == "kubernetesOnlineEndpoint.schema.json"
    assert schemas["azureml/showcase-managed.blue.deployment.yml"] == "managedOnlineDeployment.schema.json"
    assert schemas["azureml/showcase-k8s.ridge.deployment.yml"] == "kubernetesOnlineDeployment.schema.json"
    assert schemas["azureml/baked.environment.yml"] == "environment.schema.json"
