"""A real oracle for the Python reader: the generated SDK code is run with the real azure-ai-ml,
and each entity's own ``_to_dict()`` (the YAML azure-ai-ml would dump) must equal what amlforge
read statically from the same code, field by field."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amlforge.readers.base import LoadOptions
from amlforge.readers.python_sdk import PythonSdkReader
from tests.readers.sdk_cases import STYLES, deployments, endpoints, render_python

#: Values azure-ai-ml writes for a keyword the code did not give (its defaults).
SDK_DEFAULTS = {"tags": {}, "properties": {}, "traffic": {}, "environment_variables": {}, "mirror_traffic": {},
                "app_insights_enabled": False, "auth_mode": "key", "type": "managed"}


def _sdk_view(sdk: Any, ours: Any, root: Path, path: tuple = ()) -> Any:
    """The SDK's dict without the defaults it adds for keywords the code left out, and with the
    anonymous asset names, versions and absolute paths it computes put back as written."""
    if not isinstance(sdk, dict):
        return sdk
    ours = ours if isinstance(ours, dict) else {}
    out = {}
    for key, value in sdk.items():
        if key not in ours and (SDK_DEFAULTS.get(key, object()) == value or (
                path and path[-1] in ("model", "environment") and key in ("name", "version")) or (
                path and path[-1] == "model" and key == "type" and value == "custom_model")):
            continue
        if key == "path" and path and path[-1] == "model" and isinstance(value, str) and isinstance(ours.get(key), str):
            value = os.path.relpath(value, root)
        out[key] = _sdk_view(value, ours.get(key), root, path + (key,))
    return out


def _sdk_dicts(source: str, root: Path) -> dict[str, dict]:
    namespace: dict[str, Any] = {}
    cwd = os.getcwd()
    os.chdir(root)  # azure-ai-ml resolves a model path against the working folder, as a notebook does
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, str(root / "deploy.py"), "exec"), namespace)  # noqa: S102 - the oracle
            return {var: dict(namespace[var]._to_dict()) for var in ("endpoint", "deployment") if var in namespace}
    finally:
        os.chdir(cwd)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), styles=st.lists(st.sampled_from(STYLES), min_size=1, max_size=5),
       alias=st.sampled_from(["plain", "module", "class"]), traffic_after=st.booleans())
def test_static_extraction_equals_what_azure_ai_ml_builds(data, styles, alias, traffic_after) -> None:
    dep = data.draw(deployments())
    ep = data.draw(endpoints(dep))
    source = render_python({"endpoint": ep, "deployment": dep}, styles, alias, traffic_after)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "src").mkdir()
        (root / "src" / "score.py").write_text("def init():\n    pass\n")
        (root / "model").mkdir()
        (root / "model" / "model.pkl").write_bytes(b"x")
        (root / "deploy.py").write_text(source)
        read = PythonSdkReader().read(root / "deploy.py", "deploy.py", True, LoadOptions(root=root))
        assert read.problems == []
        ours = {("endpoint" if d.family == "endpoint" else "deployment"): d.data for d in read.documents}
        assert all(not d.source.unknown for d in read.documents), source
        sdk = _sdk_dicts(source, root)
        assert set(ours) == set(sdk)
        for var in sdk:
            if var == "deployment":  # azure-ai-ml lower-cases deployment names (for YAML files too)
                assert sdk[var]["name"] == ours[var]["name"].lower()
                sdk[var]["name"] = ours[var]["name"]
            expected = _plain(_sdk_view(sdk[var], ours[var], root))
            assert ours[var] == expected, (var, source)
