"""Shared by the lifecycle rules: image and curated environment entries of the knowledge catalog."""

from __future__ import annotations

from collections.abc import Iterator

from msgspec import Struct

from amlforge.errors import Location
from amlforge.policies.environment._helpers import parse_image
from amlforge.specs.environment import EnvironmentSpec
from amlforge.specs.knowledge import Lifecycle
from amlforge.specs.project import Anchor, Loaded, Project
from amlforge.specs.references import parse_asset_ref

#: Registries whose environments are Azure ML's curated ones.
CURATED_REGISTRIES = ("azureml",)


class Outdated(Struct, frozen=True):
    """A reference to an image or curated environment the catalog calls deprecated, renamed or retired."""

    at: Anchor | Location
    name: str
    raw: str
    entry: Lifecycle

    @property
    def replacement(self) -> str:
        return self.entry.replacement_for(self.name)

    def describe(self, what: str) -> str:
        when = f" ({self.entry.date})" if self.entry.date else ""
        verb = {"deprecated": "is deprecated", "renamed": "was renamed", "retired": "is retired"}[self.entry.status]
        note = f"; {self.entry.note}" if self.entry.note else ""
        return f"{what} '{self.raw}' {verb}{when}{note}"


def outdated_images(project: Project) -> Iterator[Outdated]:
    """Environment images, and ``FROM`` images of build contexts' Dockerfiles, that the catalog
    does not call supported."""
    seen: set[tuple[str, int]] = set()
    for env in project.environments:
        for at, raw in image_references(project, env):
            ref = parse_image(raw)
            entry = project.knowledge.image(ref.name)
            where = at.location() if isinstance(at, Anchor) else at
            if entry is None or entry.status == "supported" or (where.file, where.line) in seen:
                continue
            seen.add((where.file, where.line))
            yield Outdated(at, ref.name, raw, entry)


def image_references(project: Project, env: Loaded[EnvironmentSpec]) -> Iterator[tuple[Anchor | Location, str]]:
    """The images an environment builds on: its ``image``, or the resolved ``FROM`` images of its
    build context's Dockerfile (stages that name an earlier stage are left out)."""
    if env.spec.image:
        yield env.at("image"), env.spec.image
        return
    dockerfile = project.dockerfile_of(env)
    if dockerfile is None:
        return
    for base in dockerfile.external_images():
        yield base.location, base.image


def curated_name(value: str) -> str | None:
    """The curated environment a reference names: ``azureml://registries/azureml/environments/N/...``
    or a workspace reference to ``AzureML-N``; ``None`` for the user's own environments."""
    ref = parse_asset_ref(value)
    if ref is None:
        return None
    if ref.form == "registry":
        return ref.name if ref.registry in CURATED_REGISTRIES else None
    if ref.name.lower().startswith("azureml-"):
        return ref.name[len("azureml-"):]
    return None


def outdated_environments(project: Project) -> Iterator[Outdated]:
    """Deployments that refer to a curated environment the catalog does not call supported."""
    for dep in project.deployments:
        value = dep.spec.environment
        if not isinstance(value, str):
            continue
        name = curated_name(value)
        if name is None:
            continue
        entry = project.knowledge.environment(name)
        if entry is not None and entry.status != "supported":
            yield Outdated(dep.at("environment"), name, value, entry)
