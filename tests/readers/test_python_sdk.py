"""The Python reader: azure-ai-ml entities read from a .py file's ast, never run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.readers import claimed, reader_for
from amlforge.readers.base import LoadOptions
from amlforge.readers.python_sdk import PythonSdkReader
from amlforge.specs.loader import load_project

HEADER = "from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint, CodeConfiguration\n"


def _write(tmp_path: Path, text: str, name: str = "deploy.py") -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _read(path: Path, explicit: bool = True):
    return PythonSdkReader().read(path, path.name, explicit, LoadOptions(root=path.parent))


def test_py_files_are_claimed_by_the_python_reader() -> None:
    assert claimed(Path("deploy.py"))
    assert isinstance(reader_for(Path("x/DEPLOY.PY")), PythonSdkReader)


def test_values_and_keys_point_at_the_exact_expressions(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        SKU = "Standard_DS3_v2"
        blue = ManagedOnlineDeployment(
            name="blue",
            endpoint_name="ep",
            instance_type=SKU,
            instance_count=1 + 2,
        )
        """))
    read = _read(path)
    assert read.problems == []
    [doc] = read.documents
    assert doc.kind == "managed_deployment"
    assert doc.path == path
    assert doc.data == {"name": "blue", "endpoint_name": "ep", "instance_type": "Standard_DS3_v2", "instance_count": 3}
    # a name's value points at the literal it was bound to; its key at the keyword
    assert doc.source.values[("instance_type",)] == (2, 7)
    assert doc.source.keys[("instance_type",)] == (6, 5)
    assert doc.source.values[("instance_count",)] == (7, 20)
    assert doc.source.unknown == {}


@pytest.mark.parametrize("imports,call", [
    ("from azure.ai.ml import entities as e", "e.ManagedOnlineDeployment"),
    ("from azure.ai.ml.entities import ManagedOnlineDeployment as D", "D"),
    ("import azure.ai.ml.entities as ents", "ents.ManagedOnlineDeployment"),
    ("import azure.ai.ml", "azure.ai.ml.entities.ManagedOnlineDeployment"),
    ("from azure.ai.ml.entities import *", "ManagedOnlineDeployment"),
    ("from azure.ai.ml.entities._deployment.online_deployment import ManagedOnlineDeployment",
     "ManagedOnlineDeployment"),
])
def test_import_aliases_are_followed(tmp_path: Path, imports: str, call: str) -> None:
    path = _write(tmp_path, f"{imports}\nd = {call}(name='blue', instance_type='Standard_DS3_v9')\n")
    [doc] = _read(path).documents
    assert doc.data["instance_type"] == "Standard_DS3_v9"


def test_a_class_of_the_same_name_from_elsewhere_is_not_an_entity(tmp_path: Path) -> None:
    path = _write(tmp_path, "import azure.ai.ml\nfrom mylib import ManagedOnlineDeployment\n"
                            "d = ManagedOnlineDeployment(name='blue', instance_type='x')\n")
    assert _read(path).documents == []


def test_nested_entities_map_to_az_ml_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
        from azure.ai.ml.entities import (
            KubernetesOnlineDeployment, Environment, BuildContext, Model, ProbeSettings, OnlineRequestSettings,
            TargetUtilizationScaleSettings, ResourceRequirementsSettings, ResourceSettings,
        )
        from azure.ai.ml.constants import AssetTypes
        d = KubernetesOnlineDeployment(
            name="k", endpoint_name="ep",
            model=Model(path="model", type=AssetTypes.MLFLOW_MODEL),
            environment=Environment(build=BuildContext(path="docker", dockerfile_path="Dockerfile")),
            code_path="src", scoring_script="score.py",
            liveness_probe=ProbeSettings(failure_threshold=30, period=10),
            request_settings=OnlineRequestSettings(request_timeout_ms=90000),
            scale_settings=TargetUtilizationScaleSettings(min_instances=1, max_instances=3),
            resources=ResourceRequirementsSettings(requests=ResourceSettings(cpu="1", memory="2Gi")),
            environment_variables={"A": "1"},
            app_insights_enabled=True,
        )
        """)
    [doc] = _read(path).documents
    assert doc.kind == "kubernetes_deployment"
    assert doc.data == {
        "type": "kubernetes", "name": "k", "endpoint_name": "ep",
        "model": {"path": "model", "type": "mlflow_model"},
        "environment": {"build": {"path": "docker", "dockerfile_path": "Dockerfile"}},
        "code_configuration": {"code": "src", "scoring_script": "score.py"},
        "liveness_probe": {"failure_threshold": 30, "period": 10},
        "request_settings": {"request_timeout_ms": 90000},
        "scale_settings": {"type": "target_utilization", "min_instances": 1, "max_instances": 3},
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
        "environment_variables": {"A": "1"},
        "app_insights_enabled": True,
    }


def test_assignments_and_traffic_items_apply_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        ep = ManagedOnlineEndpoint(name="ep")
        blue = ManagedOnlineDeployment(name="blue", endpoint_name=ep.name, instance_count=1)
        blue.instance_count = 3
        ep.traffic = {"blue": 90}
        ep.traffic["green"] = 10
        """))
    docs = {d.kind: d for d in _read(path).documents}
    assert docs["managed_deployment"].data["instance_count"] == 3
    assert docs["managed_deployment"].data["endpoint_name"] == "ep"
    assert docs["managed_deployment"].source.keys[("instance_count",)] == (4, 6)
    assert docs["managed_endpoint"].data["traffic"] == {"blue": 90, "green": 10}
    assert docs["managed_endpoint"].source.keys[("traffic", "green")] == (6, 12)


def test_values_known_only_at_run_time_are_unknown_and_never_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        import os
        def pick():
            return "Standard_DS3_v9"
        if os.environ.get("BIG"):
            COUNT = 5
        else:
            COUNT = 1
        blue = ManagedOnlineDeployment(
            name=f"blue-{os.getpid()}", endpoint_name="my-endpoint",
            model="azureml:m:1", environment="azureml:e:1",
            instance_type=pick(), instance_count=COUNT,
        )
        """))
    [doc] = _read(path).documents
    assert set(doc.source.unknown) == {("name",), ("instance_type",), ("instance_count",)}
    assert "pick() is the result of a call" in doc.source.unknown[("instance_type",)]
    assert "COUNT is bound in a branch" in doc.source.unknown[("instance_count",)]
    rules = {f.rule for f in lint_paths([path]).findings}
    # no SKU, instance-count or naming rule guesses with what it cannot know
    assert not rules & {"AML201", "AML316", "AML102", "AML103", "AML601"}, rules
    # the same deployment with the values spelled out is checked
    known = path.read_text().replace("instance_type=pick()", 'instance_type="Standard_DS3_v9"').replace("instance_count=COUNT", "instance_count=1")
    path.write_text(known)
    assert "AML201" in {f.rule for f in lint_paths([path]).findings}


def test_findings_are_located_in_the_python_file(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + 'blue = ManagedOnlineDeployment(name="blue", endpoint_name="ep",\n'
                                     '    instance_type="Standard_DS3_v9", instance_count=1)\n')
    [f] = [f for f in lint_paths([path]).findings if f.rule == "AML201"]
    assert str(f.location) == f"{f.location.file}:3:19"
    assert f.location.file.endswith("deploy.py")


def test_suppression_comments_work_in_python(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + 'blue = ManagedOnlineDeployment(name="blue", endpoint_name="ep",\n'
                                     '    instance_type="Standard_DS3_v9",  # amlforge: ignore[AML201]\n'
                                     '    instance_count=1)\n')
    report = lint_paths([path])
    assert "AML201" not in {f.rule for f in report.findings}
    assert report.suppressed == 1


def test_code_path_resolves_against_the_python_file(tmp_path: Path) -> None:
    sub = tmp_path / "deploy"
    sub.mkdir()
    (sub / "src").mkdir()
    (sub / "src" / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    path = _write(sub, HEADER + 'blue = ManagedOnlineDeployment(name="blue", endpoint_name="ep", model="azureml:m:1",\n'
                                '    environment="azureml:e:1", instance_type="Standard_DS3_v2", instance_count=1,\n'
                                '    code_configuration=CodeConfiguration(code="src", scoring_script="score.py"))\n')
    (tmp_path / ".git").mkdir(exist_ok=True)
    ok = lint_paths([path], root=tmp_path)
    assert not [f for f in ok.findings if "score.py" in f.message and "not" in f.message]
    (sub / "src" / "score.py").unlink()
    missing = lint_paths([path], root=tmp_path)
    assert any(f.location.file.endswith("deploy.py") and "score.py" in f.message for f in missing.findings)


def test_load_online_deployment_reads_the_yaml_with_overrides(tmp_path: Path) -> None:
    (tmp_path / "blue.yml").write_text(
        "name: blue\nendpoint_name: ep\nmodel: azureml:m:1\nenvironment: azureml:e:1\n"
        "instance_type: Standard_DS3_v2\ninstance_count: 1\n")
    path = _write(tmp_path, """\
        from azure.ai.ml import load_online_deployment
        d = load_online_deployment("blue.yml", params_override=[{"instance_type": "Standard_DS3_v9"}])
        d.instance_count = 2
        """)
    [doc] = _read(path).documents
    assert doc.path == tmp_path / "blue.yml"
    assert doc.data["instance_type"] == "Standard_DS3_v9"
    assert doc.data["instance_count"] == 2
    assert "deploy.py:2" in doc.source.overrides[("instance_type",)]


def test_files_without_azure_ai_ml_are_skipped_silently(tmp_path: Path) -> None:
    path = _write(tmp_path, "def run(data):\n    return data\n", "score.py")
    read = _read(path, explicit=False)
    assert read.documents == [] and read.problems == []
    assert read.skipped == "does not use azure-ai-ml"
    broken = _write(tmp_path, "def run(:\n", "broken.py")
    assert _read(broken, explicit=False).problems == []


def test_syntax_errors_are_reported_when_named_or_using_the_sdk(tmp_path: Path) -> None:
    path = _write(tmp_path, "from azure.ai.ml.entities import Model\nm = Model(path='x'\n")
    [problem] = _read(path, explicit=False).problems
    assert problem.code == "AML006"
    assert (problem.location.line, problem.location.column) == (2, 10)
    # a file that only mentions the SDK in a comment is reported only when named
    path.write_text("# see azure.ai.ml docs\nx = (\n")
    assert _read(path, explicit=False).problems == []
    assert [p.code for p in _read(path, explicit=True).problems] == ["AML006"]


def test_walking_a_folder_lints_python_and_yaml_together(tmp_path: Path) -> None:
    _write(tmp_path, "def run(x):\n    return x\n", "score.py")
    _write(tmp_path, "import numpy\n", "util.py")
    _write(tmp_path, HEADER + 'ep = ManagedOnlineEndpoint(name="ep", auth_mode="key")\n', "deploy.py")
    result = load_project([tmp_path])
    assert [d.path.name for d in result.project.documents] == ["deploy.py"]
    assert result.problems == []


def test_entities_built_in_functions_are_read_with_unknown_parameters(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        def main(name):
            d = ManagedOnlineDeployment(name=name, endpoint_name="ep", instance_type="Standard_F2s_v2")
            return d

        if __name__ == "__main__":
            main("blue")
        """))
    [doc] = _read(path).documents
    assert doc.data["instance_type"] == "Standard_F2s_v2"
    assert ("name",) in doc.source.unknown


def test_local_endpoints_are_not_deployments(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        from azure.ai.ml import MLClient
        ml_client = MLClient.from_config()
        local = ManagedOnlineEndpoint(name="local-ep")
        ml_client.online_endpoints.begin_create_or_update(local, local=True)
        remote = ManagedOnlineEndpoint(name="remote-ep")
        ml_client.online_endpoints.begin_create_or_update(remote)
        """))
    assert [d.data["name"] for d in _read(path).documents] == ["remote-ep"]


def test_a_missing_field_points_at_the_constructor(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + 'x = 1\nblue = ManagedOnlineDeployment(endpoint_name="my-endpoint")\n')
    [f] = [f for f in lint_paths([path]).findings if f.rule == "AML103"]
    assert (f.location.line, f.location.column) == (3, 8)


def test_changes_through_a_fetched_object_make_the_value_unknown(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        from azure.ai.ml import MLClient
        ml_client = MLClient.from_config()
        endpoint = ManagedOnlineEndpoint(name="my-endpoint")
        endpoint.traffic = {"blue": 100}
        import os
        endpoint = ml_client.online_endpoints.get(name=os.environ["ENDPOINT"])
        endpoint.traffic = {"blue": 0, "green": 100}
        """))
    [doc] = _read(path).documents
    assert "set later on endpoint" in doc.source.unknown[("traffic",)]


def test_the_result_of_submitting_an_entity_is_that_entity(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + textwrap.dedent("""\
        from azure.ai.ml import MLClient
        ml_client = MLClient.from_config()
        endpoint = ManagedOnlineEndpoint(name="my-endpoint")
        endpoint = ml_client.online_endpoints.begin_create_or_update(endpoint).result()
        blue = ManagedOnlineDeployment(name="blue", endpoint_name="my-endpoint", instance_count=1)
        blue = ml_client.online_deployments.begin_create_or_update(blue).result()
        blue.instance_count = 2
        endpoint = ml_client.online_endpoints.get(name="my-endpoint")
        endpoint.traffic = {"blue": 100}
        """))
    docs = {d.family: d for d in _read(path).documents}
    assert docs["deployment"].data["instance_count"] == 2
    assert docs["endpoint"].data["traffic"] == {"blue": 100}
    assert docs["endpoint"].source.unknown == {}


def test_verbose_output_says_which_values_were_unknown(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    _write(tmp_path, HEADER + 'import os\nblue = ManagedOnlineDeployment(name="blue", endpoint_name="my-endpoint",\n'
                              '    instance_type=os.environ["SKU"], instance_count=1)\n')
    result = run_cli("lint", "deploy.py", "-v", cwd=tmp_path)
    assert "unknown deploy.py:4:19: instance_type: os.environ[\"SKU\"] is known only at run time" in result.stderr
    assert "no rule checks it" in result.stderr
    assert "Traceback" not in result.stderr
