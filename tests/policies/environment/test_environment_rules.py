"""Environment area: exact positions in conda files, and the helpers behind the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from amlforge.errors import Location
from amlforge.policies.engine import lint_paths
from amlforge.policies.environment._helpers import (
    compatible,
    parse_image,
    python_minor,
    server_candidates,
    server_releases,
    specifier_of,
    version_range,
)
from amlforge.policies.environment._pins import pip_pin_problem, vcs_revision
from amlforge.specs.conda import Dependency, parse_conda
from amlforge.specs.source import parse_yaml

DEPLOYMENT = """\
name: blue
endpoint_name: pos-endpoint
model: azureml:iris:3
code_configuration:
  code: ./src
  scoring_script: score.py
environment:
  image: contosomlws.azurecr.io/scoring/base:latest
  conda_file: ./env/conda.yaml
instance_type: Standard_F4s_v2
instance_count: 3
"""

CONDA = """\
name: pos
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip=24.2
  - numpy>=1.20
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn
      - pydantic==1.10.13
"""


def _findings(tmp_path: Path) -> dict[str, list[tuple[str, int, int]]]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "conda.yaml").write_text(CONDA)
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    (tmp_path / ".amlforge.toml").write_text("")
    report = lint_paths([tmp_path], root=tmp_path)
    out: dict[str, list[tuple[str, int, int]]] = {}
    for f in report.findings:
        out.setdefault(f.rule, []).append((Path(f.location.file).name, f.location.line, f.location.column))
    return out


def test_findings_point_at_the_dependency_line_in_the_conda_file(tmp_path: Path) -> None:
    found = _findings(tmp_path)
    assert found["AML401"] == [("conda.yaml", 7, 5)]  # numpy>=1.20
    assert found["AML402"] == [("conda.yaml", 10, 9)]  # scikit-learn
    assert found["AML406"] == [("conda.yaml", 11, 9)]  # pydantic==1.10.13 vs server 1.5.1
    assert found["AML408"] == [("blue.yml", 8, 10)]  # the image value in the deployment (a third-party latest)


def _dep(text: str, source: str = "conda") -> Dependency:
    if source == "pip":
        data, smap = parse_yaml(f"dependencies:\n  - pip:\n      - '{text}'\n", "c.yaml")
        return parse_conda(data, smap).pip[0]
    data, smap = parse_yaml(f"dependencies:\n  - '{text}'\n", "c.yaml")
    return parse_conda(data, smap).conda[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("numpy=1.26.4", "==1.26.4.*"),
    ("numpy==1.26.4", "==1.26.4"),
    ("numpy 1.26.4 py311h64a7726_0", "==1.26.4"),
    ("numpy=1.26.4=py311h64a7726_0", "==1.26.4.*"),
    ("numpy 1.26.*", "==1.26.*"),
    ("numpy>=1.20,<2", "<2,>=1.20"),
    ("numpy", ""),
])
def test_conda_constraints_become_pep440(text: str, expected: str) -> None:
    spec = specifier_of(_dep(text))
    assert spec is not None
    assert spec == SpecifierSet(expected)


def test_conda_alternatives_and_urls_are_not_read() -> None:
    assert specifier_of(_dep("numpy 1.25|1.26")) is None
    assert specifier_of(_dep("git+https://github.com/contoso/x.git@main", "pip")) is None


@pytest.mark.parametrize(("text", "minor"), [
    ("python=3.11", (3, 11)), ("python==3.11.9", (3, 11)), ("python 3.10.*", (3, 10)),
    ("python>=3.9", None), ("python", None), ("python=3", None),
])
def test_python_minor(text: str, minor: tuple[int, int] | None) -> None:
    assert python_minor(_dep(text)) == minor


def test_ranges() -> None:
    assert not compatible(SpecifierSet("<2"), SpecifierSet("~=2.12.0"))
    assert compatible(SpecifierSet("==2.12.3"), SpecifierSet("~=2.12.0"))
    assert not compatible(SpecifierSet("==1.26.4.*"), SpecifierSet("==1.24.4"))
    assert compatible(SpecifierSet("==1.26.4.*"), SpecifierSet("==1.26.4"))
    r = version_range(SpecifierSet("~=2.0"))
    assert (str(r.lo), str(r.hi), r.hi_incl) == ("2.0", "3", False)


@pytest.mark.parametrize(("raw", "registry", "repository", "tag", "digest"), [
    ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest", "mcr.microsoft.com",
     "azureml/openmpi4.1.0-ubuntu22.04", "latest", None),
    ("python:3.11-slim", "docker.io", "python", "3.11-slim", None),
    ("tensorflow/serving", "docker.io", "tensorflow/serving", None, None),
    ("localhost:5000/scoring:1", "localhost:5000", "scoring", "1", None),
    ("contoso.azurecr.io/a/b@sha256:abc", "contoso.azurecr.io", "a/b", None, "sha256:abc"),
])
def test_parse_image(raw: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image(raw)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_known_inference_images() -> None:
    assert parse_image("mcr.microsoft.com/azureml/curated/minimal-py311-inference:21").known.python == "3.11"
    assert parse_image("mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest").known.python == "3.9"
    assert parse_image("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest").known is None
    assert parse_image("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest").generic_base


def test_server_release_table() -> None:
    versions = [str(r.version) for r in server_releases()]
    assert versions[0] == "0.1.5" and versions[-1] == "1.5.1"
    data, smap = parse_yaml("dependencies:\n  - pip:\n      - azureml-inference-server-http~=0.4.13\n", "c.yaml")
    assert [str(r.version) for r in server_candidates(parse_conda(data, smap))] == ["0.4.13", "0.4.14"]


@pytest.mark.parametrize(("requirement", "revision"), [
    ("git+https://github.com/contoso/x.git@main", "main"),
    ("git+ssh://git@github.com/contoso/x.git", ""),
    ("x @ git+https://github.com/contoso/x.git@3f9c2a1d#egg=x", "3f9c2a1d"),
    ("git+https://github.com/contoso/x.git@refs/tags/v1.0", "refs/tags/v1.0"),
])
def test_vcs_revision(requirement: str, revision: str) -> None:
    assert vcs_revision(requirement) == revision


def test_pip_pins() -> None:
    loc = Location("c.yaml", 1, 1)
    assert pip_pin_problem(Dependency("numpy", "numpy==1.26.4", "pip", "1.26.4", "==1.26.4", loc)) is None
    assert pip_pin_problem(Dependency("flask", "flask", "pip", None, "", loc), server=True) is None
    assert pip_pin_problem(Dependency("flask", "flask", "pip", None, "", loc)) is not None
