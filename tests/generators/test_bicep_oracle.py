"""Oracle: the generated Bicep parses with pycep-parser, and its resources, api-versions and
properties equal the ARM template's (both evaluated to concrete values, see semantics.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.generators.conftest import SHOWCASE, SPEC_IDS, SPECS
from tests.generators.semantics import evaluate_arm, evaluate_bicep

pycep = pytest.importorskip("pycep", reason="pycep-parser is a test dependency: pip install -e '.[test]'")


@pytest.mark.parametrize("spec_path", SPECS, ids=SPEC_IDS)
def test_bicep_equals_arm(spec_path: Path, rendered: Any) -> None:
    out, loaded, files = rendered(spec_path)
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    bicep = evaluate_bicep(out / "bicep" / "main.bicep")
    assert bicep["params"] == arm["params"]
    assert set(bicep["resources"]) == set(arm["resources"])
    for key, resource in arm["resources"].items():
        assert bicep["resources"][key] == resource, key
    assert bicep["traffic"] == arm["traffic"]
    assert len(arm["traffic"]) == sum(1 for e in loaded.spec.endpoints.values()
                                      if e.traffic is not None or e.mirror_traffic is not None)


def test_comparison_notices_a_difference(rendered: Any, tmp_path: Path) -> None:
    out, _, files = rendered(SHOWCASE)
    arm = evaluate_arm(json.loads(files["arm/azuredeploy.json"]))
    for old, new in (("capacity: 3", "capacity: 4"), ("'Standard_D4as_v4'", "'Standard_D8as_v4'"),
                     ("blue: 90", "blue: 91"), ("'Key'", "'AADToken'")):
        changed = tmp_path / old.split(":")[0].strip("'")
        changed.mkdir()
        text = files["bicep/main.bicep"]
        assert old in text, old
        (changed / "main.bicep").write_text(text.replace(old, new, 1))
        (changed / "endpoint-traffic.bicep").write_text(files["bicep/endpoint-traffic.bicep"])
        assert evaluate_bicep(changed / "main.bicep") != arm, old


def test_bicep_is_idiomatic(rendered: Any) -> None:
    _, _, files = rendered(SHOWCASE)
    main = files["bicep/main.bicep"]
    parsed = pycep.BicepParser().parse(text=main)
    resources = parsed["resources"]
    assert resources["ws"]["existing"] and resources["ws"]["type"].endswith("/workspaces")
    deployed = {s: r for s, r in resources.items() if not r["existing"]}
    assert all("parent" in r["config"] for r in deployed.values())
    assert "resourceId(" not in main and "concat(" not in main
    assert all(p["decorators"] and p["decorators"][0]["type"] == "description" for p in parsed["parameters"].values())
    assert set(parsed["modules"]) == {"traffic_showcase_managed", "traffic_showcase_k8s"}
    module = pycep.BicepParser().parse(text=files["bicep/endpoint-traffic.bicep"])
    assert set(module["parameters"]) == {"workspaceName", "location", "endpointName", "identity", "tags", "properties"}
