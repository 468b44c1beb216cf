"""``Project``: everything one run sees, with cross-file facts computed once.

A :class:`Document` is one YAML file with its source map and, when it validated, its spec.
A :class:`Loaded` pairs a spec object with the document (and the path inside it) it came from,
so that a rule can say ``deployment.at("request_settings", "request_timeout_ms")`` and the
framework can turn that into ``blue.yml:12:25``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from msgspec import Struct, field

from amlforge.errors import Location
from amlforge.specs.source import SourceMap, YamlPath

if TYPE_CHECKING:
    from amlforge.specs.conda import CondaFile
    from amlforge.specs.deployment import OnlineDeploymentBase
    from amlforge.specs.dockerfile import Dockerfile
    from amlforge.specs.endpoint import OnlineEndpointBase
    from amlforge.specs.environment import EnvironmentSpec
    from amlforge.specs.instance_type import InstanceTypeSpec
    from amlforge.specs.knowledge import Knowledge
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.overlay import Overlay
    from amlforge.specs.quota import QuotaSpec
    from amlforge.specs.sku import SkuCatalog

T = TypeVar("T")

#: Document kinds the loader recognises.
KINDS = (
    "managed_endpoint",
    "kubernetes_endpoint",
    "managed_deployment",
    "kubernetes_deployment",
    "environment",
    "model",
    "kubernetes_instancetype",
    "kubernetes_instancetypelist",
)


class Document(Struct, eq=False):
    """One YAML file: where it is, what kind it is, its data, source map and spec."""

    path: Path
    display: str
    kind: str
    data: dict[str, Any]
    source: SourceMap
    spec: Any = None
    explicit: bool = True
    #: The reader (source form) it came from: ``azml-yaml``, ``arm``, ``bicep``, ``terraform``...
    reader: str = "azml-yaml"
    #: What a reader recorded about the source beyond the az-ml data, for rules that need it
    #: without knowing the form. Template readers set ``replaces`` (the resource is applied as
    #: a whole PUT: a key left out is reset), ``literal_location`` ((line, column, value) of a
    #: region written as a literal) and ``secure_defaults`` ([(line, column, name)] of secure
    #: parameters with a default value, on the first document of the file).
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        """``endpoint``, ``deployment``, ``environment`` or ``model``."""
        return self.kind.rsplit("_", 1)[-1]


class Anchor(Struct, frozen=True):
    """A place in a document that a finding can point at."""

    doc: Document
    path: YamlPath = ()

    def location(self, *, key: bool = False) -> Location:
        """File, line and column of the value (or of its nearest spelled-out ancestor)."""
        return self.doc.source.locate(self.path, key=key)

    def at(self, *more: str | int) -> Anchor:
        """A place below this one."""
        return Anchor(self.doc, self.path + tuple(more))

    @property
    def spelled_out(self) -> bool:
        """Whether the file itself contains this value (rather than a default)."""
        return self.doc.source.has(self.path)


class LocalPath(Struct, frozen=True):
    """A path a spec refers to, resolved against the YAML file that names it."""

    raw: str
    path: Path
    exists: bool
    inside_root: bool
    is_dir: bool


class Loaded(Struct, Generic[T], eq=False):
    """A spec object with the document and path it was read from."""

    spec: T
    doc: Document
    prefix: YamlPath = ()

    def at(self, *path: str | int) -> Anchor:
        """Anchor for a value inside this spec (path relative to the spec)."""
        return Anchor(self.doc, self.prefix + tuple(path))

    @property
    def name(self) -> str | None:
        """The spec's ``name``, when it has one."""
        return getattr(self.spec, "name", None)

    @property
    def label(self) -> str:
        """A short human name: the spec name, or the file name."""
        return self.name or self.doc.path.name


class EndpointGroup(Struct, eq=False):
    """An endpoint and the deployments that name it (either may be missing from the run)."""

    name: str
    endpoint: Loaded[OnlineEndpointBase] | None = None
    deployments: list[Loaded[OnlineDeploymentBase]] = field(default_factory=list)

    def deployment(self, name: str) -> Loaded[OnlineDeploymentBase] | None:
        """The deployment called ``name`` (names are case-insensitive in Azure)."""
        for dep in self.deployments:
            if dep.spec.name and dep.spec.name.lower() == name.lower():
                return dep
        return None


def _identity(item: Loaded[Any], fields: tuple[str, ...]) -> tuple[str, ...] | None:
    """The lower-cased values of ``fields`` of a resource, or ``None`` when one is missing or unknown."""
    values = []
    for name in fields:
        value = getattr(item.spec, name, None)
        if not isinstance(value, str) or not value or item.doc.source.is_unknown(item.prefix + (name,)):
            return None
        values.append(value.lower())
    return tuple(values)


class Project(Struct, eq=False, dict=True):
    """Everything one lint run sees."""

    root: Path
    documents: list[Document] = field(default_factory=list)
    endpoints: list[Loaded[OnlineEndpointBase]] = field(default_factory=list)
    deployments: list[Loaded[OnlineDeploymentBase]] = field(default_factory=list)
    environments: list[Loaded[EnvironmentSpec]] = field(default_factory=list)
    models: list[Loaded[ModelSpec]] = field(default_factory=list)
    #: Kubernetes InstanceType objects read in this run (``kubectl get instancetypes -o yaml``).
    instance_types: list[Loaded[InstanceTypeSpec]] = field(default_factory=list)
    #: Lower-cased names of the environments that a model package spec of the run builds on
    #: (``base_environment_source``): packaging adds the inference server to them.
    package_bases: set[str] = field(default_factory=set)
    profile: str = "dev"
    options: dict[str, Any] = field(default_factory=dict)
    #: conda channels (or a mirror) of the project's configuration (``channels``), which locks are made with.
    channels: list[str] = field(default_factory=list)
    quota: QuotaSpec | None = None
    #: The project's own knowledge file (``knowledge`` in the configuration), if any.
    knowledge_file: Path | None = None
    #: In-memory files that replace the disk below the folders they own (see specs/overlay.py).
    overlay: Overlay | None = None
    #: The projects ``amlforge lint`` rendered from the run's amlforge.yaml files, by the spec's
    #: path relative to ``root`` (``amlforge review`` compares them with the base's).
    rendered: dict[str, Project] = field(default_factory=dict)
    _path_cache: dict[tuple[Path, str], LocalPath] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        """Compute a cross-rule fact once per run (e.g. a parsed score.py) and cache it."""
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]

    def conda_for(self, env: Loaded[EnvironmentSpec]) -> CondaFile | None:
        """The parsed conda file of an environment (inline or a local path); None when absent or unreadable."""
        return self.memo(("conda", id(env)), lambda: self._load_conda(env))

    def _load_conda(self, env: Loaded[EnvironmentSpec]) -> CondaFile | None:
        from amlforge.specs.conda import load_conda_file, parse_conda
        from amlforge.specs.loader import display_path

        value = env.spec.conda_file
        if isinstance(value, dict):
            return parse_conda(value, env.doc.source, env.prefix + ("conda_file",))
        if isinstance(value, str) and is_local_path(value):
            resolved = self.local_path(env, value)
            if resolved.exists and not resolved.is_dir:
                # many deployments share one conda file: parse each file once per run
                return self.memo(("conda-file", resolved.path),
                                 lambda: load_conda_file(resolved.path, display_path(resolved.path),
                                                         self.read_overlay(resolved.path))[0])
        return None

    def dockerfile_of(self, env: Loaded[EnvironmentSpec]) -> Dockerfile | None:
        """The parsed Dockerfile of an environment's local build context (None without one)."""
        build = env.spec.build
        if build is None or not is_local_path(build.path):
            return None
        context = self.local_path(env, build.path)
        dockerfile = self.local_path(env, os.path.join(build.path, build.dockerfile_path))
        if not context.exists or not context.is_dir or not dockerfile.exists or dockerfile.is_dir:
            return None  # AML106 / AML415 report these

        def load() -> Dockerfile:
            from amlforge.specs.dockerfile import load_dockerfile
            from amlforge.specs.loader import display_path
            from amlforge.specs.source import read_text

            def read(path: Path, display: str) -> str:
                text = self.read_overlay(path)
                return text if text is not None else read_text(path, display)

            return load_dockerfile(dockerfile.path, display_path(dockerfile.path), context.path, read)

        return self.memo(("dockerfile", dockerfile.path), load)

    def model_size(self, deployment: Loaded[OnlineDeploymentBase]) -> tuple[int, str] | None:
        """Bytes of the deployment's model and where the figure comes from, when known.

        A local model path is measured on disk (all files below a folder). A registered model
        (``azureml:...``) is sized from the ``model_sizes`` option, e.g.
        ``[tool.amlforge.options] model_sizes = {"azureml:llm:3" = "14GiB"}``.
        """
        return self.memo(("model_size", id(deployment)), lambda: self._model_size(deployment))

    def _model_size(self, deployment: Loaded[OnlineDeploymentBase]) -> tuple[int, str] | None:
        from amlforge.specs.model import ModelSpec
        from amlforge.specs.resources import parse_quantity

        owner = self.model_of(deployment)  # inline, or a model YAML of this run it names
        model = owner.spec if owner is not None else deployment.spec.model
        if owner is not None and isinstance(model, ModelSpec) and model.path and is_local_path(model.path):
            resolved = self.local_path(owner, model.path)
            if not resolved.exists:
                return None
            return self.memo(("bytes", resolved.path), lambda: _size_on_disk(resolved.path)), f"size of {model.path}"
        sizes = self.options.get("model_sizes") or {}
        key = deployment.spec.model if isinstance(deployment.spec.model, str) else None
        if key and key in sizes:
            text = str(sizes[key]).strip()
            text = text[:-2] + "i" if text.endswith("iB") else (text[:-1] if text.endswith("B") else text)
            value = parse_quantity(text)
            if value is not None:
                return int(value), f"model_sizes option for {key}"
        return None

    def environment_of(self, deployment: Loaded[OnlineDeploymentBase]) -> Loaded[EnvironmentSpec] | None:
        """The inline environment of a deployment, or a standalone environment file of the run it names."""
        return self._asset_of(deployment, "environment")

    def model_of(self, deployment: Loaded[OnlineDeploymentBase]) -> Loaded[ModelSpec] | None:
        """The inline model of a deployment, or a standalone model file of the run it names."""
        return self._asset_of(deployment, "model")

    def _asset_of(self, deployment: Loaded[OnlineDeploymentBase], kind: str) -> Loaded[Any] | None:
        index = self.memo(("asset-index", kind), lambda: self._asset_index(kind))
        inline = index["inline"].get(id(deployment.doc))
        if inline is not None:
            return inline
        ref = getattr(deployment.spec, kind)
        if isinstance(ref, str):
            from amlforge.specs.references import parse_asset_ref

            parsed = parse_asset_ref(ref)
            if parsed is not None:
                for candidate in index["named"].get(parsed.name, ()):
                    if parsed.version is None or str(candidate.spec.version) == parsed.version:
                        return candidate
        return None

    def _asset_index(self, kind: str) -> dict[str, dict[Any, Any]]:
        """Inline assets by their deployment document, standalone ones by name (built once per run)."""
        inline: dict[int, Loaded[Any]] = {}
        named: dict[str, list[Loaded[Any]]] = {}
        for loaded in self.environments if kind == "environment" else self.models:
            if loaded.prefix:
                inline[id(loaded.doc)] = loaded
            elif loaded.spec.name:
                named.setdefault(loaded.spec.name, []).append(loaded)
        return {"inline": inline, "named": named}

    @cached_property
    def skus(self) -> SkuCatalog:
        """The managed online SKU catalog."""
        from amlforge.specs.sku import load_catalog

        return load_catalog()

    @cached_property
    def today(self) -> datetime.date:
        """The date lifecycle facts are judged against: the ``retirement_as_of`` option, else today.

        Raises:
            UserInputError: the option is not a date.
        """
        value = self.options.get("retirement_as_of")
        if value is None:
            return datetime.date.today()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            from amlforge.errors import UserInputError

            raise UserInputError(f"rule option 'retirement_as_of' should be a date (YYYY-MM-DD), got {value!r}", None,
                                 'set [tool.amlforge.options] retirement_as_of = "2026-01-31", or remove it') from None

    @cached_property
    def knowledge(self) -> Knowledge:
        """The lifecycle catalog (images, environments, server releases, limits) of this run."""
        from amlforge.specs.knowledge import load_knowledge

        return load_knowledge(self.knowledge_file)

    @property
    def quota_figures(self) -> QuotaSpec:
        """Quota from --quota, or the documented defaults."""
        if self.quota is None:
            from amlforge.specs.quota import documented_defaults

            self.quota = documented_defaults()
        return self.quota

    def option(self, name: str, default: Any) -> Any:
        """A rule option from the configuration ([tool.amlforge.options])."""
        return self.options.get(name, default)

    @cached_property
    def groups(self) -> dict[str, EndpointGroup]:
        """Endpoints with their deployments, keyed by lower-cased endpoint name."""
        groups: dict[str, EndpointGroup] = {}
        for ep in self.endpoints:
            if ep.spec.name:
                groups.setdefault(ep.spec.name.lower(), EndpointGroup(ep.spec.name)).endpoint = ep
        for dep in self.deployments:
            if dep.spec.endpoint_name:
                key = dep.spec.endpoint_name.lower()
                groups.setdefault(key, EndpointGroup(dep.spec.endpoint_name)).deployments.append(dep)
        return groups

    @cached_property
    def duplicates(self) -> list[tuple[Loaded[Any], Loaded[Any]]]:
        """(later, first) pairs of documents that resolve to the same endpoint (by name) or the
        same deployment (endpoint name + deployment name), case-insensitively, in file order.
        A name that is not known statically (an unfilled placeholder) matches nothing."""
        out: list[tuple[Loaded[Any], Loaded[Any]]] = []
        first: dict[tuple[str, ...], Loaded[Any]] = {}
        for ep in self.endpoints:
            key = _identity(ep, ("name",))
            if key is not None:
                seen = first.setdefault(("endpoint", *key), ep)
                if seen is not ep:
                    out.append((ep, seen))
        for dep in self.deployments:
            key = _identity(dep, ("endpoint_name", "name"))
            if key is not None:
                seen = first.setdefault(("deployment", *key), dep)
                if seen is not dep:
                    out.append((dep, seen))
        return out

    @cached_property
    def unique_deployments(self) -> list[Loaded[OnlineDeploymentBase]]:
        """The deployments, each endpoint/deployment pair once (the first file that defines it):
        what capacity and quota figures count."""
        later = {id(dup) for dup, _ in self.duplicates}
        return [d for d in self.deployments if id(d) not in later]

    @cached_property
    def unique_endpoints(self) -> list[Loaded[OnlineEndpointBase]]:
        """The endpoints, each name once (the first file that defines it)."""
        later = {id(dup) for dup, _ in self.duplicates}
        return [e for e in self.endpoints if id(e) not in later]

    def instance_type(self, name: str) -> Loaded[InstanceTypeSpec] | None:
        """The InstanceType object of the run called ``name`` (Kubernetes names are case-sensitive)."""
        return next((t for t in self.instance_types if t.spec.name == name), None)

    def endpoint_of(self, deployment: Loaded[OnlineDeploymentBase]) -> Loaded[OnlineEndpointBase] | None:
        """The endpoint a deployment names. When several files of the run define that name (the
        samples of one repository often reuse 'my-endpoint'; an ARM and a Bicep form of one
        template), the one in the deployment's own file, else in its folder lineage (the same
        folder, or one holding the other), nearest first; ``None`` when none is."""
        name = deployment.spec.endpoint_name
        if not name:
            return None
        same = [ep for ep in self.endpoints if ep.spec.name and ep.spec.name.lower() == name.lower()]
        if len(same) <= 1:
            return same[0] if same else None
        in_file = [ep for ep in same if ep.doc.path == deployment.doc.path]  # a template's own endpoint
        if in_file:
            return in_file[-1]
        here = deployment.doc.path.parent
        related = [ep for ep in same if ep.doc.path.parent == here or ep.doc.path.parent in here.parents
                   or here in ep.doc.path.parent.parents]
        return min(related, key=lambda ep: abs(len(ep.doc.path.parent.parts) - len(here.parts)), default=None)

    def group_of(self, deployment: Loaded[OnlineDeploymentBase]) -> EndpointGroup | None:
        """The endpoint group a deployment belongs to."""
        name = deployment.spec.endpoint_name
        return self.groups.get(name.lower()) if name else None

    def read_overlay(self, path: Path | str) -> str | None:
        """The in-memory text of ``path`` when the run has an overlay that holds it."""
        return self.overlay.text(path) if self.overlay is not None else None

    def local_path(self, owner: Loaded[Any], raw: str) -> LocalPath:
        """Resolve a path written in ``owner``'s YAML file (relative to that file)."""
        base = owner.doc.path.parent
        key = (base, raw)
        cached = self._path_cache.get(key)
        if cached is None:
            path = Path(os.path.normpath(base / os.path.expanduser(raw)))
            try:
                real = Path(os.path.realpath(path))
            except ValueError:  # a NUL or a lone surrogate (a JSON or Python escape) names no file
                real = path
            root = Path(os.path.realpath(self.root))
            inside = real == root or root in real.parents
            if self.overlay is not None and self.overlay.covers(path):
                cached = LocalPath(raw, path, self.overlay.exists(path), inside, self.overlay.is_dir(path))
            else:
                # os.path's probes answer False for any OSError (a part over 255 bytes, a loop),
                # where pathlib's raise on some of them
                cached = LocalPath(raw, path, os.path.exists(path), inside, os.path.isdir(path))
            self._path_cache[key] = cached
        return cached


def _size_on_disk(path: Path) -> int:
    """Bytes of a file, or of every file below a folder (measured once per run and path)."""
    if not os.path.isdir(path):
        try:
            return os.stat(path).st_size
        except OSError:
            return 0
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total


def is_local_path(value: str) -> bool:
    """Whether a path-like value refers to the local file system (not azureml:, http, datastore)."""
    lowered = value.lower()
    return not (
        lowered.startswith(("azureml:", "http://", "https://", "wasbs://", "abfss://", "adl://", "git+", "docker://"))
        or "://" in lowered
    )


__all__ = ["Anchor", "Document", "EndpointGroup", "KINDS", "LocalPath", "Loaded", "Project", "is_local_path"]
