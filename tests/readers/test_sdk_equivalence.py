"""Same rules, same results: a deployment written as az-ml YAML and as azure-ai-ml Python gets the
same findings (rule, severity, message), whatever style the Python spells its values in."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from amlforge.policies.engine import lint_paths
from tests.readers.sdk_cases import STYLES, deployments, endpoints, render_python, to_yaml


def _tree(root: Path) -> None:
    (root / ".git").mkdir()
    (root / "src").mkdir()
    (root / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n")
    (root / "model").mkdir()
    (root / "model" / "model.pkl").write_bytes(b"x" * 1000)


SCHEMA = "https://azuremlschemas.azureedge.net/latest/{}.schema.json"


def _yaml(ent) -> str:
    schema = SCHEMA.format(ent.cls[0].lower() + ent.cls[1:])
    return yaml.safe_dump({"$schema": schema, **to_yaml(ent)}, sort_keys=False)


def _findings(root: Path) -> Counter:
    report = lint_paths([root])
    return Counter((f.rule, f.severity.value, f.message) for f in report.findings)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), styles=st.lists(st.sampled_from(STYLES), min_size=1, max_size=5),
       alias=st.sampled_from(["plain", "module", "class"]), traffic_after=st.booleans())
def test_yaml_and_python_get_the_same_findings(data, styles, alias, traffic_after) -> None:
    dep = data.draw(deployments())
    with_endpoint = data.draw(st.booleans())
    ep = data.draw(endpoints(dep)) if with_endpoint else None
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        yaml_root, py_root = Path(a), Path(b)
        _tree(yaml_root)
        _tree(py_root)
        (yaml_root / "deployment.yml").write_text(_yaml(dep))
        entities = {"deployment": dep}
        if ep is not None:
            (yaml_root / "endpoint.yml").write_text(_yaml(ep))
            entities = {"endpoint": ep, "deployment": dep}
        source = render_python(entities, styles, alias, traffic_after)
        (py_root / "deploy.py").write_text(source)
        from_yaml, from_python = _findings(yaml_root), _findings(py_root)
        event(f"findings: {min(sum(from_yaml.values()), 5)}+")
        assert from_python == from_yaml, source
