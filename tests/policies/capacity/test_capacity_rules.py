"""Capacity area: exact positions of findings, the quota arithmetic, GPU intent and options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.policies.engine import lint_paths
from amlforge.specs.conda import normalise
from amlforge.specs.sku import load_catalog

DEPLOYMENT = """\
name: {name}
endpoint_name: pos-endpoint
model: azureml:llm:3
code_configuration:
  code: azureml:scoring-code:1
  scoring_script: score.py
environment:
  image: {image}
instance_type: {sku}
instance_count: {count}
environment_variables:
  WORKER_COUNT: "{workers}"
request_settings:
  max_concurrent_requests_per_instance: {workers}
"""


def _project(tmp_path: Path, *, sku: str = "Standard_DS3_v2", count: int = 3, workers: int = 1,
             image: str = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1",
             toml: str = "", quota: str | None = None) -> Path:
    (tmp_path / "blue.yml").write_text(DEPLOYMENT.format(name="blue", sku=sku, count=count, workers=workers,
                                                         image=image))
    (tmp_path / ".amlforge.toml").write_text(toml)
    if quota is not None:
        (tmp_path / "quota.yaml").write_text(quota)
    return tmp_path


def _findings(root: Path, rule: str) -> list:
    return [f for f in lint_paths([root], root=root).findings if f.rule == rule]


def _position(root: Path, text: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``text`` in blue.yml."""
    for number, line in enumerate((root / "blue.yml").read_text().splitlines(), start=1):
        if text in line:
            return number, line.index(text) + 1
    raise AssertionError(text)


@pytest.mark.parametrize(("rule", "kwargs", "value"), [
    ("AML201", {"sku": "Standard_DS3_v9"}, "Standard_DS3_v9"),
    ("AML202", {"sku": "Standard_NC6s_v3", "image": "mcr.microsoft.com/azureml/x-cuda12:1"}, "Standard_NC6s_v3"),
    ("AML203", {"image": "mcr.microsoft.com/azureml/openmpi5.0-cuda12.4-ubuntu22.04:1"}, "Standard_DS3_v2"),
    ("AML205", {"sku": "Standard_F2s_v2"}, "Standard_F2s_v2"),
    ("AML206", {"count": -1}, "-1"),
    ("AML208", {"count": 10, "toml": 'quota = "quota.yaml"\n',
                "quota": "families:\n  standardDSv2Family: {limit: 40}\n"}, "10"),
    ("AML209", {"sku": "Standard_NC4as_T4_v3", "count": 2, "image": "mcr.microsoft.com/azureml/a-cuda12:1"}, "2"),
    ("AML212", {"sku": "Standard_DS2_v2", "toml": '[options]\nmodel_sizes = {"azureml:llm:3" = "12Gi"}\n'},
     "Standard_DS2_v2"),
    ("AML213", {"workers": 2, "toml": '[options]\nmodel_sizes = {"azureml:llm:3" = "6Gi"}\n'},
     "Standard_DS3_v2"),
    ("AML214", {"sku": "Standard_NC24ads_A100_v4", "image": "mcr.microsoft.com/azureml/a-cuda12:1"},
     "Standard_NC24ads_A100_v4"),
])
def test_findings_point_at_the_offending_value(tmp_path: Path, rule: str, kwargs: dict, value: str) -> None:
    root = _project(tmp_path, **kwargs)
    found = _findings(root, rule)
    assert len(found) == 1, found
    loc = found[0].location
    assert loc.file.endswith("blue.yml")
    key = "instance_count: " if rule in {"AML206", "AML208", "AML209"} else "instance_type: "
    line, column = _position(root, key + value)
    assert (loc.line, loc.column) == (line, column + len(key))


@pytest.mark.parametrize(("count", "instances"), [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 8), (10, 12),
                                                  (20, 24), (50, 60)])
def test_upgrade_reserve_rounding(count: int, instances: int) -> None:
    ds3 = load_catalog().get("standard_ds3_v2")
    assert ds3.reserved_vcpus(count) == instances * 4
    a100 = load_catalog().get("Standard_NC24ads_A100_v4")
    assert a100.skip_upgrade_reserve and a100.reserved_vcpus(count) == count * 24


def test_worked_example_message(tmp_path: Path) -> None:
    root = _project(tmp_path, count=10, toml='quota = "quota.yaml"\n',
                    quota="families:\n  standardDSv2Family: {limit: 100, usage: 60}\n")
    (finding,) = _findings(root, "AML208")
    assert finding.message.startswith("VM family 'standardDSv2Family' needs 48 vCPUs but 40 are available "
                                      "(limit 100, usage 60)")
    assert "10 x Standard_DS3_v2 -> 12 instances" in finding.message
    assert finding.hint.startswith("request 8 more vCPUs")


def test_quota_family_names_ignore_case_and_spaces(tmp_path: Path) -> None:
    root = _project(tmp_path, sku="Standard_NC4as_T4_v3", count=1, toml='quota = "quota.yaml"\n',
                    image="mcr.microsoft.com/azureml/a-cuda12:1",
                    quota="families:\n  standardNCASv3_T4Family: {limit: 4}\n")
    assert _findings(root, "AML209") == []  # the family is listed, so AML208 compares the figures
    (over,) = _findings(root, "AML208")
    assert "needs 8 vCPUs but 4 are available" in over.message


def _signal(raw: str, source: str) -> str | None:
    from amlforge.policies.capacity._helpers import _dependency_signal

    name = normalise(re.split(r"[\s=<>!~\[;]", raw, maxsplit=1)[0])
    return _dependency_signal(name, raw, source)


@pytest.mark.parametrize(("raw", "source", "expected"), [
    ("pytorch-cuda=12.1", "conda", "gpu"),
    ("pytorch=2.1.0=py3.11_cuda12.1_cudnn8.9.2_0", "conda", "gpu"),
    ("pytorch=2.1.0=cpu_py311h", "conda", "cpu"),
    ("cudatoolkit=11.8", "conda", "gpu"),
    ("cpuonly", "conda", "cpu"),
    ("torch==2.3.0+cu121", "pip", "gpu"),
    ("torch==2.3.0+cpu", "pip", "cpu"),
    ("torch==2.6.0", "pip", "capable"),  # PyPI wheels bundle CUDA: not GPU intent, not CPU-only
    ("tensorflow[and-cuda]==2.16.1", "pip", "gpu"),
    ("onnxruntime-gpu==1.18.0", "pip", "gpu"),
    ("nvidia-cudnn-cu12==9.1.0.70", "pip", "gpu"),
    ("jax[cuda12]==0.4.30", "pip", "gpu"),
    ("onnxruntime==1.18.0", "pip", None),
    ("scikit-learn==1.5.2", "pip", None),
    ("barracuda==1.0", "pip", None),
])
def test_gpu_signal_of_dependencies(raw: str, source: str, expected: str | None) -> None:
    assert _signal(raw, source) == expected


@pytest.mark.parametrize(("toml", "needle"), [
    ('[options]\nmodel_sizes = {"azureml:llm:3" = "6Gi"}\nmemory_factor = "lots"\n', "memory_factor"),
    ('[options]\nretirement_as_of = "someday"\n', "retirement_as_of"),
    ('[options]\nmodel_sizes = {"azureml:llm:3" = "6Gi"}\ndisk_fraction = 1.5\n', "disk_fraction"),
])
def test_bad_options_are_user_errors(tmp_path: Path, toml: str, needle: str) -> None:
    root = _project(tmp_path, sku="Standard_DS1_v2", toml=toml)
    with pytest.raises(UserInputError, match=needle):
        lint_paths([root], root=root)
