"""Shared code of the environment rules (not a rule: the catalog loader skips `_` modules).

- image references (``registry/repository:tag@digest``) and what amlforge knows of an image;
- version constraints of conda and pip dependencies as comparable ranges;
- the inference server's releases (``amlforge/data/inference_server_versions.json``);
- which environment, model and MLflow files a deployment uses, computed once per run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from amlforge.data import load_json

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from amlforge.errors import Location
    from amlforge.specs.conda import CondaFile, Dependency
    from amlforge.specs.deployment import OnlineDeploymentBase
    from amlforge.specs.environment import EnvironmentSpec
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.project import Loaded, LocalPath, Project

SERVER = "azureml-inference-server-http"
DEFAULTS = "azureml-defaults"
#: Packages the inference server brings itself; the docs say not to pin them
#: (how-to-inference-server-http / inference server troubleshooting include).
SERVER_MANAGED = ("flask", "werkzeug", "jinja2", "itsdangerous", "markupsafe", "click")


# ---------------------------------------------------------------------------------------------
# Data tables


@cache
def _data(name: str) -> Any:
    return load_json(name)


class ServerRelease(Struct, frozen=True):
    """One release of azureml-inference-server-http, from its PyPI metadata."""

    version: Version
    requires_python: SpecifierSet | None
    requires: dict[str, str] | None  # Linux requirements; None where not recorded


@lru_cache(maxsize=1)
def server_releases() -> tuple[ServerRelease, ...]:
    """Every release of the inference server, oldest first."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    out = []
    for text, info in _data("inference_server_versions.json")["versions"].items():
        rp = info.get("requires_python")
        out.append(ServerRelease(Version(text), SpecifierSet(rp) if rp else None, info.get("requires")))
    return tuple(sorted(out, key=lambda r: r.version))


class KnownImage(Struct, frozen=True):
    """A prebuilt inference image of concept-prebuilt-docker-images-inference.md."""

    image: str
    python: str
    gpu: bool
    bundles_server: bool


@lru_cache(maxsize=1)
def _images() -> dict[str, Any]:
    return _data("inference_images.json")


# ---------------------------------------------------------------------------------------------
# Image references


class ImageRef(Struct, frozen=True):
    """A Docker image reference split into its parts (docker.io when no registry is given)."""

    raw: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """``registry/repository`` in lower case, without tag or digest."""
        return f"{self.registry}/{self.repository}".lower()

    @property
    def is_microsoft(self) -> bool:
        return self.registry.lower() in _images()["microsoft_registries"]

    @property
    def is_acr(self) -> bool:
        return self.registry.lower().endswith(tuple(_images()["acr_suffixes"]))

    @property
    def known(self) -> KnownImage | None:
        """The prebuilt inference image this is, by name (tag ignored)."""
        for row in _images()["inference_images"]:
            if row["image"] == self.name:
                return KnownImage(row["image"], row["python"], row["gpu"], row["bundles_server"])
        # azureml/<name>-inference and azureml/curated/<name>-inference follow one naming scheme
        m = re.fullmatch(r"mcr\.microsoft\.com/azureml/(?:curated/)?[a-z0-9.\-]*py3(\d+)[a-z0-9.\-]*-inference", self.name)
        if m:
            return KnownImage(self.name, f"3.{m.group(1)}", "gpu" in self.name or "cuda" in self.name, True)
        return None

    @property
    def generic_base(self) -> bool:
        """An Azure ML base image without the inference server (openmpi, intelmpi)."""
        return self.name.startswith(tuple(_images()["generic_base_prefixes"]))


def parse_image(raw: str) -> ImageRef:
    """Split ``[registry/]repository[:tag][@digest]`` as Docker does."""
    text = raw.strip()
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", text
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    return ImageRef(raw, registry, path, tag or None, digest or None)


# ---------------------------------------------------------------------------------------------
# Version constraints


def specifier_of(dep: Dependency) -> SpecifierSet | None:
    """The dependency's constraint as a PEP 440 specifier set (conda syntax converted).

    ``None`` when it cannot be read (URLs, conda ``|`` alternatives, odd syntax). An empty set
    means "any version".
    """
    if dep.source == "pip" and ("://" in dep.raw or "/" in dep.name):
        return None  # a URL, VCS or path requirement: no version constraint to read
    return _specifier(dep.source, dep.spec.strip())


@lru_cache(maxsize=4096)
def _specifier(source: str, text: str) -> SpecifierSet | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if source == "pip":
        try:
            return SpecifierSet(text)
        except InvalidSpecifier:
            return None
    if "|" in text:
        return None
    parts = []
    for piece in filter(None, (p.strip() for p in text.split(","))):
        if re.match(r"^[0-9]", piece):  # "1.26.4 py311h..." or "1.26.*"
            piece = "==" + piece.split()[0]
        elif piece.startswith("=") and not piece.startswith("=="):
            version = piece[1:].split("=", 1)[0].strip()  # "=1.26.4=py311_0" drops the build
            piece = "==" + (version if version.endswith("*") else version + ".*")
        elif piece.startswith("=="):
            piece = "==" + piece[2:].split("=", 1)[0].strip()
        piece = piece.split()[0] if piece else piece
        if piece.endswith("*") and not piece.endswith(".*"):
            piece = piece[:-1].rstrip(".") + ".*"
        parts.append(piece)
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        return None


class Range(Struct, frozen=True):
    """The versions a specifier set allows, as one interval (``!=`` exclusions ignored)."""

    lo: Version | None = None
    lo_incl: bool = True
    hi: Version | None = None
    hi_incl: bool = False

    @property
    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        if self.lo > self.hi:
            return True
        return self.lo == self.hi and not (self.lo_incl and self.hi_incl)

    def intersect(self, other: Range) -> Range:
        lo, lo_incl = self.lo, self.lo_incl
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_incl)):
            lo, lo_incl = other.lo, other.lo_incl
        hi, hi_incl = self.hi, self.hi_incl
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_incl)):
            hi, hi_incl = other.hi, other.hi_incl
        return Range(lo, lo_incl, hi, hi_incl)


def _bump(release: tuple[int, ...]) -> Version:
    from packaging.version import Version

    head = list(release[:-1]) + [release[-1] + 1]
    return Version(".".join(str(p) for p in head))


@lru_cache(maxsize=4096)
def version_range(spec: SpecifierSet) -> Range:
    """Lower and upper bounds of ``spec``."""
    from packaging.version import InvalidVersion, Version

    result = Range()
    for s in spec:
        op, text = s.operator, s.version
        try:
            if text.endswith(".*"):
                prefix = Version(text[:-2])
                part = Range(prefix, True, _bump(prefix.release), False)
            else:
                v = Version(text)
                if op in ("==", "==="):
                    part = Range(v, True, v, True)
                elif op == ">=":
                    part = Range(v, True)
                elif op == ">":
                    part = Range(v, False)
                elif op == "<=":
                    part = Range(hi=v, hi_incl=True)
                elif op == "<":
                    part = Range(hi=v, hi_incl=False)
                elif op == "~=":
                    part = Range(v, True, _bump(v.release[:-1]), False)
                else:  # != and friends do not bound
                    continue
        except InvalidVersion:
            continue
        result = result.intersect(part)
    return result


def compatible(a: SpecifierSet, b: SpecifierSet) -> bool:
    """Whether some version could satisfy both (by their bounds)."""
    return not version_range(a).intersect(version_range(b)).empty


def python_minor(dep: Dependency) -> tuple[int, int] | None:
    """``(3, 11)`` for ``python=3.11``, ``python==3.11.9``, ``python 3.11.*``; None for ranges."""
    spec = specifier_of(dep)
    if spec is None:
        return None
    r = version_range(spec)
    if r.lo is None or r.hi is None or len(r.lo.release) < 2:
        return None
    lo = (r.lo.release[0], r.lo.release[1])
    hi = (r.hi.release[0], r.hi.release[1] if len(r.hi.release) > 1 else 0)
    if hi == lo or (hi == (lo[0], lo[1] + 1) and not r.hi_incl and r.hi.release[2:] in ((), (0,))):
        return lo
    return None


# ---------------------------------------------------------------------------------------------
# Inference server in a conda file


def server_dependency(conda: CondaFile) -> Dependency | None:
    """The azureml-inference-server-http requirement of a conda file."""
    found = conda.find(SERVER)
    return found[0] if found else None


def has_server(conda: CondaFile) -> bool:
    """Whether the conda file installs the inference server (directly or via azureml-defaults)."""
    return bool(conda.find(SERVER) or conda.find(DEFAULTS))


def server_candidates(conda: CondaFile) -> list[ServerRelease] | None:
    """The server releases the conda file's constraint allows; None when it has no readable one."""
    dep = server_dependency(conda)
    if dep is None:
        return None
    spec = specifier_of(dep)
    if spec is None:
        return None
    return [r for r in server_releases() if spec.contains(r.version, prereleases=True)]


# ---------------------------------------------------------------------------------------------
# Which files a run uses


def conda_files(project: Project) -> list[tuple[Loaded[EnvironmentSpec], CondaFile]]:
    """Each environment with a readable conda file, once per conda file.

    Several deployments often name the same ``conda_file``; its findings are reported once.
    """

    def build() -> list[tuple[Loaded[EnvironmentSpec], CondaFile]]:
        seen: set[tuple[str, int, int]] = set()
        out = []
        for env in project.environments:
            conda = project.conda_for(env)
            if conda is None:
                continue
            key = (conda.location.file, conda.location.line, conda.location.column)
            if key in seen:
                continue
            seen.add(key)
            out.append((env, conda))
        return out

    return project.memo(("environment", "conda_files"), build)


def dockerfile_pip_sections(project: Project) -> list[CondaFile]:
    """The pip requirements of each build context's Dockerfile (RUN pip install, -r files), once per Dockerfile."""
    out: dict[str, CondaFile] = {}
    for env in project.environments:
        dockerfile = project.dockerfile_of(env) if env.spec.build is not None else None
        if dockerfile is not None and not dockerfile.problem:
            out.setdefault(dockerfile.display, dockerfile.pip)
    return list(out.values())


def environment_of(project: Project, dep: Loaded[OnlineDeploymentBase]) -> Loaded[EnvironmentSpec] | None:
    """The environment a deployment uses (inline, or a standalone file it references)."""
    return project.environment_of(dep)


def deployments_by_environment(project: Project) -> dict[int, list[Loaded[OnlineDeploymentBase]]]:
    """id(environment) -> the deployments that use it."""

    def build() -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for dep in project.deployments:
            env = environment_of(project, dep)
            if env is not None:
                out.setdefault(id(env), []).append(dep)
        return out

    return project.memo(("environment", "deployments_by_environment"), build)


def model_of(project: Project, dep: Loaded[OnlineDeploymentBase]) -> Loaded[ModelSpec] | None:
    """The model a deployment uses: inline, or a standalone model file it references."""
    return project.model_of(dep)


def is_no_code(dep: Loaded[OnlineDeploymentBase]) -> bool:
    """An MLflow no-code deployment leaves out both the scoring code and the environment."""
    return dep.spec.code_configuration is None and dep.spec.environment is None


# ---------------------------------------------------------------------------------------------
# MLflow model folders


class MlflowModel(Struct):
    """What amlforge reads from a local MLflow model folder.

    Attributes:
        folder: The resolved model path.
        mlmodel: Display path of the MLmodel file ('' when missing).
        problem: Why the folder cannot be served ('' when fine).
        flavors: Flavor names in MLmodel.
        env_file: The conda file MLmodel's python_function flavor names ('' when none).
        env_missing: MLmodel names a conda file that is not in the folder.
        conda: That conda file, parsed.
        mlflow_version: MLmodel's ``mlflow_version`` ('' when absent).
    """

    folder: LocalPath
    mlmodel: str = ""
    problem: str = ""
    flavors: list[str] = field(default_factory=list)
    env_file: str = ""
    env_missing: bool = False
    conda: CondaFile | None = None
    mlflow_version: str = ""


def mlflow_model(project: Project, model: Loaded[ModelSpec]) -> MlflowModel | None:
    """The local MLflow folder of an ``mlflow_model``; None when it is not local or does not exist."""
    from amlforge.specs.project import is_local_path

    spec = model.spec
    if spec.type != "mlflow_model" or not spec.path or not is_local_path(spec.path):
        return None
    folder = project.local_path(model, spec.path)
    if not folder.exists:
        return None  # AML106 reports it
    return project.memo(("environment", "mlflow", str(folder.path)), lambda: _read_mlflow(folder))


def _read_mlflow(folder: LocalPath) -> MlflowModel:
    from amlforge.errors import UserInputError
    from amlforge.specs.conda import load_conda_file
    from amlforge.specs.files import read_user_text
    from amlforge.specs.loader import display_path
    from amlforge.specs.source import parse_yaml

    info = MlflowModel(folder)
    if not folder.is_dir:
        info.problem = f"'{folder.raw}' is a file; an MLflow model is a folder with an MLmodel file"
        return info
    path = folder.path / "MLmodel"
    if not os.path.isfile(path):
        info.problem = f"'{folder.raw}' has no MLmodel file"
        return info
    info.mlmodel = display_path(path)
    try:
        data, _ = parse_yaml(read_user_text(path, info.mlmodel, 2_000_000, errors="replace"), info.mlmodel)
    except UserInputError as e:
        info.problem = f"{folder.raw}/MLmodel is not readable YAML ({e.message})"
        return info
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        info.problem = f"{folder.raw}/MLmodel has no 'flavors' mapping"
        return info
    info.flavors = [str(f) for f in data["flavors"]]
    if isinstance(data.get("mlflow_version"), (str, int, float)):
        info.mlflow_version = str(data["mlflow_version"])
    pyfunc = data["flavors"].get("python_function")
    env = pyfunc.get("env") if isinstance(pyfunc, dict) else None
    if isinstance(env, dict):
        env = env.get("conda")
    if isinstance(env, str) and env:
        info.env_file = env
        conda_path = folder.path / env
        if os.path.isfile(conda_path):
            conda, _, _ = load_conda_file(conda_path, display_path(conda_path))
            info.conda = conda
        else:
            info.env_missing = True
    return info


def no_code_mlflow(project: Project) -> Iterator[tuple[Loaded[OnlineDeploymentBase], Loaded[ModelSpec], MlflowModel]]:
    """No-code deployments (no scoring script, no environment) of a readable local MLflow model:
    the platform builds their environment from the model's own conda file and scores them."""
    for dep, model, info in iter_mlflow_deployments(project):
        if is_no_code(dep) and not info.problem:
            yield dep, model, info


def mlflow_conda_anchor(model: Loaded[ModelSpec], info: MlflowModel) -> Location:
    """Where a finding about an MLflow model's conda file points: the file, else the model path."""
    if info.conda is not None:
        return info.conda.location
    return model.at("path").location()


def iter_mlflow_deployments(project: Project) -> Iterator[tuple[Loaded[OnlineDeploymentBase], Loaded[ModelSpec], MlflowModel]]:
    """Deployments whose model is a readable local MLflow folder."""
    for dep in project.deployments:
        model = model_of(project, dep)
        if model is None:
            continue
        info = mlflow_model(project, model)
        if info is not None:
            yield dep, model, info


# ---------------------------------------------------------------------------------------------
# Pins that fight the inference server's own requirements


class ServerConflict(Struct, frozen=True):
    """A conda-file pin that no allowed server release accepts."""

    dep: Dependency
    server: Dependency
    requirement: str  # what the allowed releases require, e.g. "pydantic~=2.12.0"
    releases: str  # "release 1.5.1 requires" or "releases 1.0.0 to 1.5.1 require"


def server_conflicts(project: Project, conda: CondaFile) -> list[ServerConflict]:
    """Pins in ``conda`` that conflict with every server release its constraint allows.

    Empty when the server is absent, its constraint cannot be read, or some allowed release has
    no recorded requirements (the 0.x releases): then pip may still find a combination.
    """
    return project.memo(("environment", "server_conflicts", id(conda)), lambda: _server_conflicts(conda))


def _server_conflicts(conda: CondaFile) -> list[ServerConflict]:
    from packaging.specifiers import SpecifierSet

    server = server_dependency(conda)
    allowed = server_candidates(conda)
    if server is None or not allowed or any(r.requires is None for r in allowed):
        return []
    out = []
    for dep in conda.dependencies:
        if dep.name in (SERVER, DEFAULTS):
            continue
        spec = specifier_of(dep)
        if spec is None or not str(spec):
            continue
        wanted = []
        for release in allowed:
            req = (release.requires or {}).get(dep.name)
            if req is None or compatible(spec, SpecifierSet(req)):
                break
            wanted.append(req)
        else:
            distinct = list(dict.fromkeys(wanted))
            requirement = " or ".join(f"{dep.name}{r}" for r in distinct[:3])
            first, last = allowed[0].version, allowed[-1].version
            releases = f"release {first} requires" if first == last else f"releases {first} to {last} require"
            out.append(ServerConflict(dep, server, requirement, releases))
    return out
