"""Shared helpers of the generator tests: the specs under test and their rendered output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import render_files
from amlforge.specs.project_spec import LoadedSpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOWCASE = FIXTURES / "showcase" / "amlforge.yaml"
#: Every shipped example's spec, plus the showcase that uses every feature.
SPECS = [*sorted(EXAMPLES.glob("*/amlforge.yaml")), SHOWCASE]
SPEC_IDS = [p.parent.name for p in SPECS]


def render_into(spec_path: Path, out: Path, *, api_version: str | None = None) -> tuple[LoadedSpec, dict[str, str]]:
    """Render every target of a spec into ``out`` (no self-check), optionally with another api-version."""
    loaded = load_spec(spec_path)
    if api_version is not None:
        spec = loaded.spec.model_copy(update={"target": loaded.spec.target.model_copy(update={"api_version": api_version})})
        loaded = LoadedSpec(spec, loaded.path, loaded.source)
    files = render_files(read_inputs(loaded, out))
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return loaded, files


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``rendered(spec_path, api_version=None) -> (out folder, loaded spec, files)``, cached per session."""
    cache: dict[tuple[Path, str | None], tuple[Path, LoadedSpec, dict[str, str]]] = {}

    def get(spec_path: Path, api_version: str | None = None) -> tuple[Path, LoadedSpec, dict[str, str]]:
        key = (spec_path, api_version)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{spec_path.parent.name}-{api_version or 'default'}")
            loaded, files = render_into(spec_path, out, api_version=api_version)
            cache[key] = (out, loaded, files)
        return cache[key]

    return get


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the blue/green example with only its spec and the files it names."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(EXAMPLES / "sklearn-blue-green", root, ignore=shutil.ignore_patterns("*.yml"))
    (root / "pyproject.toml").write_text("")
    return root
