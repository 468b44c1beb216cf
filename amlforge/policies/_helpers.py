"""Shared helpers for rules (not a rule: the catalog loader skips `_` modules)."""

from __future__ import annotations

from collections.abc import Iterator

from amlforge.specs.environment import EnvironmentSpec
from amlforge.specs.model import ModelSpec
from amlforge.specs.project import Anchor, LocalPath, Project, is_local_path


def local_paths(project: Project) -> Iterator[tuple[Anchor, str, LocalPath]]:
    """Every local path the project's YAML names: (where, what it is, resolved path)."""
    for dep in project.deployments:
        code = dep.spec.code_configuration
        if code and code.code and is_local_path(code.code):
            yield dep.at("code_configuration", "code"), "code folder", project.local_path(dep, code.code)
    for env in project.environments:
        spec: EnvironmentSpec = env.spec
        if isinstance(spec.conda_file, str) and is_local_path(spec.conda_file):
            yield env.at("conda_file"), "conda file", project.local_path(env, spec.conda_file)
        if spec.build and is_local_path(spec.build.path):
            yield env.at("build", "path"), "build context", project.local_path(env, spec.build.path)
    for model in project.models:
        m: ModelSpec = model.spec
        if m.path and is_local_path(m.path):
            yield model.at("path"), "model path", project.local_path(model, m.path)
