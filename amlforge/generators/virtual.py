"""The az-ml YAML of an ``amlforge.yaml``, in memory, for ``amlforge lint``.

``amlforge lint`` meets a project spec among its inputs: it renders the spec's az-ml YAML (and
the Docker build contexts it names) exactly as ``amlforge generate`` would, hands it to the
loader as an :class:`~amlforge.specs.overlay.Overlay`, runs the whole catalog on it, and points
each finding back at the line of ``amlforge.yaml`` that the value came from. So a spec gets the
quota, SKU, traffic, probe, environment and scoring checks that hand-written YAML gets, at
its own lines, and ``# amlforge: ignore[...]`` comments in the spec work.

The rendered files sit in a folder that cannot exist on disk (below the spec *file*:
``amlforge.yaml/azureml/``), at the depth of ``generated/azureml/``, so that the relative paths
in them resolve to the spec's code, conda files and models, and no folder on disk is shadowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec.structs
from msgspec import Struct

from amlforge.errors import UserInputError
from amlforge.generators.inputs import DOCKER_DIR, YAML_DIR
from amlforge.specs.source import YamlPath

if TYPE_CHECKING:
    from amlforge.policies.registry import Finding
    from amlforge.specs.overlay import Overlay
    from amlforge.specs.project import Document
    from amlforge.specs.project_spec import ProjectSpec
    from amlforge.specs.source import SourceMap


class Origin(Struct, frozen=True):
    """The spec entry a rendered file was made from.

    Attributes:
        kind: ``endpoint``, ``deployment``, ``environment`` or ``docker`` (a build context file).
        base: Path of the entry in the spec (``("endpoints", "ep", "deployments", "blue")``).
        model, code: A deployment's model and code entries (where its inline values come from).
        dockerfile: An environment with ``dockerfile: true`` (its ``build`` is generated).
    """

    kind: str
    base: YamlPath
    model: str = ""
    code: str = ""
    dockerfile: bool = False

    def spec_path(self, path: YamlPath) -> YamlPath:
        """Spec path of the value at ``path`` of the rendered file."""
        base = self.base
        if not path or path[0] in ("$schema", "name"):
            return base
        head, rest = path[0], path[1:]
        if self.kind == "docker" or (self.kind == "environment" and self.dockerfile
                                     and head in ("build", "inference_config")):
            return (*base[:2], "dockerfile")
        if self.kind != "deployment":
            return (*base, *path)
        endpoint = base[:2]
        if head == "endpoint_name":
            return endpoint
        if head == "type":
            return (*endpoint, "kind")
        if head == "model":
            return ("models", self.model, *rest) if rest and rest[0] != "name" and self.model else (*base, "model")
        if head == "code_configuration":
            if rest[:1] == ("code",) and self.code:
                return ("code", self.code, "path")
            return (*base, "scoring_script") if rest[:1] == ("scoring_script",) else (*base, "code")
        return (*base, *path)


class VirtualOutput(Struct):
    """A spec's rendered az-ml YAML and how to point back at the spec.

    Attributes:
        overlay: The rendered files, below ``folder``.
        folder: Where they sit (a path below the spec file; nothing on disk).
        origins: Rendered file (relative to ``folder``) -> the spec entry it was made from.
        spec_source: The spec's source map.
    """

    overlay: Overlay
    folder: Path
    origins: dict[str, Origin]
    spec_source: SourceMap

    @property
    def yaml_dir(self) -> Path:
        """The folder of the rendered az-ml YAML (what to load)."""
        return self.folder / YAML_DIR

    def origin_of(self, file: str) -> Origin | None:
        """The origin of a finding's file, when it is one of the rendered files."""
        if not file:
            return None
        rel = Path(os.path.relpath(os.path.abspath(file), self.folder)).as_posix()
        return self.origins.get(rel)

    def relocate(self, finding: Finding, rendered: SourceMap | None) -> Finding:
        """A finding of a rendered file, moved to the spec: to the place the value at its
        location came from, with the paths in its message as the spec spells them (relative to
        the spec's folder). Findings of other files are left as they are.

        ``rendered`` is the rendered file's source map (to find the YAML path at that place);
        without it, the finding goes to the spec entry of the whole resource.
        """
        loc = finding.location
        origin = self.origin_of(loc.file)
        if origin is None:
            return finding
        path = _path_at(rendered, loc.line, loc.column) if rendered is not None and loc.line else ()
        # a fix of the rendered text has no meaning in the spec: relocated findings carry none
        return msgspec.structs.replace(finding, location=self.spec_source.locate(origin.spec_path(path), key=not path),
                                   message=finding.message.replace(f"'{_REBASE}", "'"), fix=None)


#: What rendering puts before a spec-relative path in azureml/ (see Inputs.rebase).
_REBASE = "../../"


def _path_at(smap: SourceMap, line: int, column: int) -> YamlPath:
    """The YAML path whose value (or key) is at, or nearest before, ``line:column``."""
    best: YamlPath = ()
    best_pos = (0, 0)
    for table in (smap.values, smap.keys):
        for path, pos in table.items():
            if pos == (line, column):
                return path
            if pos[0] == line and pos[1] <= column and pos > best_pos:
                best, best_pos = path, pos
    return best


def render_virtual(doc: Document) -> VirtualOutput:
    """Render the az-ml YAML of a validated spec document into an overlay.

    Raises:
        UserInputError: what ``amlforge generate`` would refuse before rendering (a missing
            conda file, a path outside the project), located in the spec.
    """
    from amlforge.generators.inputs import read_inputs
    from amlforge.generators.pipeline import render_files, yaml_overlay
    from amlforge.specs.project_spec import LoadedSpec

    loaded = LoadedSpec(doc.spec, Path(os.path.abspath(doc.path)), doc.source)
    folder = loaded.path  # the spec file: a folder below it cannot exist
    inputs = read_inputs(loaded, folder)
    files = render_files(inputs, ("yaml",))
    return VirtualOutput(yaml_overlay(inputs, files, folder), folder, origins_of(loaded.spec, files), loaded.source)


def origins_of(spec: ProjectSpec, files: Iterable[str]) -> dict[str, Origin]:
    """The spec entry each rendered file (a path relative to the output folder) was made from."""
    from amlforge.generators.azureml_yaml import deployment_file, endpoint_file, environment_file

    origins: dict[str, Origin] = {}
    for name, env in spec.environments.items():
        origins[environment_file(name)] = Origin("environment", ("environments", name), dockerfile=bool(env.dockerfile))
    for ep_name, ep in spec.endpoints.items():
        origins[endpoint_file(ep_name)] = Origin("endpoint", ("endpoints", ep_name))
        for dep_name, dep in ep.deployments.items():
            origins[deployment_file(ep_name, dep_name)] = Origin(
                "deployment", ("endpoints", ep_name, "deployments", dep_name), dep.model or "", dep.code or "")
    files = list(files)
    for rel in files:
        if rel.startswith(DOCKER_DIR + "/"):
            origins[rel] = Origin("docker", ("environments", rel.split("/")[1]))
    return {rel: origins[rel] for rel in files if rel in origins}


def input_problem_code(error: UserInputError) -> str:
    """The rule a refusal of :func:`render_virtual` is reported under."""
    if "outside the project" in error.message:
        return "AML107"
    if "does not exist" in error.message:
        return "AML106"
    return "AML001"


__all__ = ["Origin", "VirtualOutput", "input_problem_code", "origins_of", "render_virtual"]
