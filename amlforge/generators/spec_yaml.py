"""Write a :class:`~amlforge.specs.project_spec.ProjectSpec` as ``amlforge.yaml`` (import, init)."""

from __future__ import annotations

from typing import Any

from amlforge.generators._render import render
from amlforge.specs.project_spec import ProjectSpec


def spec_doc(spec: ProjectSpec) -> dict[str, Any]:
    """The spec as plain data: the fields that were given, in field order; empty sections left out."""
    data = spec.model_dump(exclude_unset=True, by_alias=True, mode="json")
    data.setdefault("version", 1)
    ordered: dict[str, Any] = {}
    for key in ("$schema", "version", "target", "environments", "models", "code", "endpoints"):
        if key in data and data[key] not in ({}, None):
            ordered[key] = data[key]
    return ordered


def render_spec(spec: ProjectSpec, note: str = "") -> str:
    """``amlforge.yaml`` text for ``spec``; ``note`` becomes a comment under the header."""
    return render("spec/amlforge.yaml.j2", doc=spec_doc(spec), note_lines=note.splitlines() if note else [])


__all__ = ["render_spec", "spec_doc"]
