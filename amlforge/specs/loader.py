"""Load az-ml YAML files into a :class:`~amlforge.specs.project.Project`.

Steps: discover files under the given paths, read and parse each with a source map, classify
it (by its ``$schema`` URL, else by its keys), apply ``--set`` overrides, validate it into a
spec model, and collect endpoints, deployments, environments and models (inline ones too).
Problems are returned as :class:`LoadProblem` values, never raised, so that one bad file does
not hide the findings of the others.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amlforge.errors import Location, UserInputError
from amlforge.specs.overlay import Overlay
from amlforge.specs.project import Document, Loaded, Project
from amlforge.specs.source import YamlPath, parse_yaml, read_text

SCHEMA_HOSTS = ("azuremlschemas.azureedge.net", "azuremlsdk2.blob.core.windows.net")
_SCHEMA_FAMILIES = {
    "managedonlineendpoint": "endpoint",
    "kubernetesonlineendpoint": "endpoint",
    "onlineendpoint": "endpoint",
    "managedonlinedeployment": "deployment",
    "kubernetesonlinedeployment": "deployment",
    "onlinedeployment": "deployment",
    "environment": "environment",
    "model": "model",
}
_YAML_SUFFIXES = (".yml", ".yaml")
_SKIP_DIRS = {"node_modules", "__pycache__", "site-packages", "venv"}
_ENDPOINT_KEYS = {"auth_mode", "traffic", "mirror_traffic", "public_network_access"}
_DEPLOYMENT_KEYS = {
    "endpoint_name",
    "instance_type",
    "instance_count",
    "code_configuration",
    "scale_settings",
    "request_settings",
    "liveness_probe",
    "readiness_probe",
    "environment_variables",
    "app_insights_enabled",
    "egress_public_network_access",
    "model_mount_path",
    "resources",
}
_ENVIRONMENT_KEYS = {"image", "build", "conda_file", "inference_config", "os_type"}
_MODEL_TYPES = {"custom_model", "mlflow_model", "triton_model"}
# Words that make a file that fails to parse worth reporting during directory discovery.
_AML_SNIFF = re.compile(r"azureml|endpoint_name|auth_mode|instance_type|scoring_script|conda_file")


@dataclass(frozen=True)
class LoadProblem:
    """Something the loader could not accept. ``code`` is the rule ID it is reported under."""

    code: str
    location: Location
    message: str
    hint: str = ""
    fatal: bool = False


@dataclass
class LoadOptions:
    """Inputs of a load besides the paths.

    Attributes:
        root: Project root; referenced paths outside it are reported. Found from the paths
            (nearest folder with .git, pyproject.toml, .amlforge.toml or amlforge.yaml) when None.
        overrides: az-ml style ``--set key.path=value`` pairs, applied to every document.
        variables: ``--var NAME=VALUE`` pairs that fill ``{{NAME}}`` placeholders.
        profile: Active profile (``dev``, ``prod``, ...).
        max_file_bytes: Largest YAML file read.
        skip_unknown: Treat files named on the command line like files found in a folder:
            skip YAML that is not az-ml (for pre-commit, which passes every changed YAML file).
        overlay: Files that exist only in memory (output ``amlforge generate`` is about to
            write); below the folders it owns, it replaces the disk.
    """

    root: Path | None = None
    overrides: Sequence[tuple[str, str]] = ()
    variables: dict[str, str] = field(default_factory=dict)
    profile: str = "dev"
    max_file_bytes: int = 5 * 1024 * 1024
    skip_unknown: bool = False
    overlay: Overlay | None = None


@dataclass
class LoadResult:
    """A loaded project and the problems met on the way."""

    project: Project
    problems: list[LoadProblem]


def display_path(path: Path) -> str:
    """Path as shown to the user: relative to the working directory when below it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def find_root(paths: Sequence[Path]) -> Path:
    """The project root: the nearest folder above the first path that marks a project."""
    markers = (".git", "pyproject.toml", ".amlforge.toml", "amlforge.yaml")
    start = Path(os.path.abspath(paths[0] if paths else "."))
    start = start if start.is_dir() else start.parent
    for candidate in (start, *start.parents):
        if any((candidate / m).exists() for m in markers):
            return candidate
    cwd = Path.cwd()
    return cwd if (start == cwd or cwd in start.parents) else start


def discover(paths: Sequence[Path], overlay: Overlay | None = None) -> Iterator[tuple[Path, bool]]:
    """YAML files under ``paths``, sorted; each with whether the user named it explicitly.

    Raises:
        UserInputError: a path does not exist.
    """
    for given in paths:
        if overlay is not None and overlay.covers(given):
            if overlay.is_dir(given):
                for path in overlay.files_under(given):
                    if path.name.endswith(_YAML_SUFFIXES):
                        yield path, False
                continue
            if overlay.exists(given):
                yield given, True
                continue
            raise UserInputError("no such file or directory", Location(str(given)), "check the path")
        if given.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
                found.extend(Path(dirpath, f) for f in filenames if f.endswith(_YAML_SUFFIXES))
            for path in sorted(found):
                yield path, False
        elif given.exists():
            yield given, True
        else:
            raise UserInputError("no such file or directory", Location(str(given)), "check the path")


#: Document kind of an amlforge project spec (``amlforge.yaml``).
PROJECT_SPEC = "project_spec"
_PROJECT_SPEC_NAMES = ("amlforge.yaml", "amlforge.yml")


def is_project_spec(path: Path, data: dict[str, Any]) -> bool:
    """An amlforge project spec: named amlforge.yaml, or with a ``$schema`` ending in amlforge.schema.json."""
    schema = data.get("$schema")
    return path.name in _PROJECT_SPEC_NAMES or (
        isinstance(schema, str) and schema.rstrip("#").endswith("amlforge.schema.json"))


def classify(data: dict[str, Any]) -> str | None:
    """The document kind of a parsed mapping, by ``$schema`` URL or by its keys."""
    schema = data.get("$schema")
    family = None
    if isinstance(schema, str) and any(host in schema for host in SCHEMA_HOSTS):
        stem = schema.rstrip("/").rsplit("/", 1)[-1].split(".")[0].lower()
        family = _SCHEMA_FAMILIES.get(stem, "unsupported:" + stem)
        if family.startswith("unsupported:"):
            return family
    keys = set(data)
    if family is None:
        if "dependencies" in keys or "channels" in keys and not keys & _ENVIRONMENT_KEYS:
            return None  # a conda file; read when an environment refers to it
        if keys & _ENDPOINT_KEYS or ("compute" in keys and not keys & _DEPLOYMENT_KEYS):
            family = "endpoint"
        elif keys & _DEPLOYMENT_KEYS or ("model" in keys and "environment" in keys):
            family = "deployment"
        elif keys & _ENVIRONMENT_KEYS:
            family = "environment"
        elif "path" in keys and str(data.get("type", "")).lower() in _MODEL_TYPES:
            family = "model"
        else:
            return None
    if family == "endpoint":
        return "kubernetes_endpoint" if "compute" in data else "managed_endpoint"
    if family == "deployment":
        kind = data.get("type")
        is_k8s = isinstance(kind, str) and kind.lower() == "kubernetes"
        return "kubernetes_deployment" if is_k8s else "managed_deployment"
    return family


def _spec_class(kind: str) -> type:
    from amlforge.specs import deployment, endpoint, environment, model

    return {
        "managed_endpoint": endpoint.ManagedOnlineEndpoint,
        "kubernetes_endpoint": endpoint.KubernetesOnlineEndpoint,
        "managed_deployment": deployment.ManagedOnlineDeployment,
        "kubernetes_deployment": deployment.KubernetesOnlineDeployment,
        "environment": environment.EnvironmentSpec,
        "model": model.ModelSpec,
    }[kind]


def _apply_overrides(doc: Document, overrides: Sequence[tuple[str, str]]) -> None:
    import yaml

    for key, raw in overrides:
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
        value = yaml.safe_load(raw) if raw else ""
        target: Any = doc.data
        for part in parts[:-1]:
            if isinstance(target, dict):
                target = target.setdefault(part, {})
            elif isinstance(target, list) and isinstance(part, int) and part < len(target):
                target = target[part]
            else:
                break
        else:
            if isinstance(target, dict):
                target[parts[-1]] = value
            elif isinstance(target, list) and isinstance(parts[-1], int) and parts[-1] < len(target):
                target[parts[-1]] = value
            doc.source.overrides[tuple(parts)] = f"--set {key}={raw}"


# ---------------------------------------------------------------------------------------------
# Turning pydantic errors into problems with locations and "did you mean" hints.


def _unwrap(annotation: Any) -> list[tuple[str | None, Any]]:
    """Members of an annotation as (tag, type) pairs, looking through Optional/Annotated/Union."""
    from pydantic import Tag

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        tags = [m.tag for m in meta if isinstance(m, Tag)]
        return [(tags[0] if tags else tag, t) for tag, t in _unwrap(inner)]
    if origin in (typing.Union, types.UnionType):
        return [pair for arg in typing.get_args(annotation) for pair in _unwrap(arg)]
    return [(None, annotation)]


def _model_at(cls: type, loc: Sequence[str | int]) -> tuple[type | None, list[str | int]]:
    """Walk a pydantic error location through the model classes; return the class at the end
    and the location with union tags removed (so it matches the YAML path)."""
    from pydantic import BaseModel

    current: Any = cls
    clean: list[str | int] = []
    pending = list(loc)
    while pending:
        part = pending.pop(0)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fld = _field_by_key(current, part)
            if fld is None:
                clean.append(part)
                return None, clean + pending
            clean.append(part)
            current = fld.annotation
            continue
        members = _unwrap(current)
        tagged = [t for tag, t in members if tag == part]
        if tagged:
            current = tagged[0]
            continue
        origin = typing.get_origin(current)
        if origin in (list, dict) or any(typing.get_origin(t) in (list, dict) for _, t in members):
            container = next((t for _, t in members if typing.get_origin(t) in (list, dict)), current)
            current = typing.get_args(container)[-1]
            clean.append(part)
            continue
        models = [t for _, t in members if isinstance(t, type) and issubclass(t, BaseModel)]
        if len(models) >= 1:
            current = models[0]
            pending.insert(0, part)
            continue
        clean.append(part)
        return None, clean + pending
    for _, t in _unwrap(current):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t, clean
    return None, clean


def _field_by_key(cls: Any, key: str | int) -> Any:
    from pydantic import AliasChoices

    for name, fld in cls.model_fields.items():
        if key == name or key == fld.alias:
            return fld
        va = fld.validation_alias
        if isinstance(va, AliasChoices) and key in va.choices:
            return fld
    return None


def field_keys(cls: Any) -> list[str]:
    """The YAML keys a model accepts (aliases where they exist)."""
    from pydantic import AliasChoices

    keys = []
    for name, fld in cls.model_fields.items():
        va = fld.validation_alias
        if isinstance(va, AliasChoices):
            keys.extend(str(c) for c in va.choices)
        else:
            keys.append(fld.alias or name)
    return keys


_OTHER_KIND_KEYS = {
    "resources": "resources belongs to Kubernetes deployments: add 'type: kubernetes' or remove it",
    "egress_public_network_access": "egress_public_network_access belongs to managed deployments only",
    "public_network_access": "public_network_access belongs to managed endpoints only (no compute key)",
    "deployments": "az-ml CLI v2 keeps each deployment in its own file with endpoint_name",
    "type": "an endpoint has no type key; a Kubernetes endpoint is one with compute",
}

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "string_or_mapping": "a reference string (azureml:...) or a mapping",
}


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def validation_problems(doc: Document, cls: type, error: Any) -> list[LoadProblem]:
    """Convert a pydantic ``ValidationError`` into located problems."""
    problems = []
    for err in error.errors(include_url=False):
        kind = err["type"]
        owner, path = _model_at(cls, err["loc"])
        if kind == "extra_forbidden":
            parent_cls, _ = _model_at(cls, err["loc"][:-1])
            key = str(path[-1])
            choices = field_keys(parent_cls) if parent_cls else []
            close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif key in _OTHER_KIND_KEYS and not path[:-1]:
                hint = _OTHER_KIND_KEYS[key]
            else:
                shown = sorted(c for c in choices if not c.startswith("$"))
                hint = "remove it; keys accepted here: " + ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
            where = _dotted(path[:-1])
            problems.append(LoadProblem(
                "AML101", doc.source.locate(tuple(path), key=True),
                f"unknown field '{key}'" + (f" in {where}" if path[:-1] else ""), hint))
        elif kind == "missing":
            key = str(path[-1]) if path else ""
            hint = f"add '{key}: ...'"
            if key in ("name", "endpoint_name", "instance_type", "instance_count"):
                hint += f" or give it at deploy time (--set {key}=...)"
            problems.append(LoadProblem(
                "AML103", doc.source.locate(tuple(path[:-1]), key=True),
                f"missing required field '{_dotted(path)}'", hint))
        elif kind in _EXPECTED:
            value = err.get("input")
            hint = f"write {_EXPECTED[kind]}"
            if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = f'quote the value: "{value}"'
            elif kind == "int_from_float":
                hint = "use a whole number"
            problems.append(LoadProblem(
                "AML102", doc.source.locate(tuple(path)),
                f"'{_dotted(path)}' should be {_EXPECTED[kind]}, got {_show(value)}", hint))
        elif kind == "asset_reference":
            problems.append(LoadProblem(
                "AML110", doc.source.locate(tuple(path)), err["msg"],
                "write azureml:<name>:<version>, azureml:<name>@latest, "
                "azureml://registries/<registry>/<kind>s/<name>/versions/<version>, or an inline mapping"))
        elif kind == "literal_error":
            expected = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
            value = err.get("input")
            close = difflib.get_close_matches(str(value), expected, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(expected)}"
            problems.append(LoadProblem(
                "AML104", doc.source.locate(tuple(path)),
                f"'{_dotted(path)}' is {_show(value)}, expected one of {', '.join(expected)}", hint))
        elif kind == "environment_source":
            at = tuple(path) + ((err["ctx"]["field"],) if err.get("ctx", {}).get("field") else ())
            problems.append(LoadProblem(
                "AML104", doc.source.locate(at, key=True), err["msg"],
                "an environment is either a base image (optionally with conda_file) or a Docker build context"))
        else:
            message = err["msg"]
            if kind == "string_too_short":
                message = f"'{_dotted(path)}' must not be empty"
            problems.append(LoadProblem(
                "AML104", doc.source.locate(tuple(path)),
                message[0].lower() + message[1:] if message else "invalid value",
                "fix the value at this position"))
    return problems


# ---------------------------------------------------------------------------------------------


def load_project(paths: Sequence[Path | str], options: LoadOptions | None = None) -> LoadResult:
    """Load every az-ml YAML file under ``paths`` into a :class:`Project`.

    Raises:
        UserInputError: a given path does not exist, or nothing to lint was found.
    """
    from pydantic import ValidationError

    options = options or LoadOptions()
    given = [Path(p) for p in paths] or [Path(".")]
    root = Path(os.path.abspath(options.root)) if options.root else find_root(given)
    project = Project(root=root, profile=options.profile, overlay=options.overlay)
    problems: list[LoadProblem] = []
    seen: set[Path] = set()
    any_yaml = False
    found = list(discover(given, options.overlay))
    generated = _generated_from_specs_of_the_run(found)
    for path, explicit in found:
        if not explicit and path in generated:
            continue  # linted through its amlforge.yaml, at the spec's lines
        explicit = explicit and not options.skip_unknown
        absolute = Path(os.path.abspath(path))
        if absolute in seen:
            continue
        seen.add(absolute)
        any_yaml = True
        doc = _read_document(absolute, explicit, options, problems)
        if doc is None:
            continue
        if doc.kind == PROJECT_SPEC:
            # amlforge.yaml: validated here (located problems); its resources reach the
            # policies through the az-ml YAML that `amlforge generate` writes and lints.
            from amlforge.specs.project_spec import validate_document

            doc.spec, spec_problems = validate_document(doc)
            problems.extend(spec_problems)
            project.documents.append(doc)
            continue
        if options.overrides:
            _apply_overrides(doc, options.overrides)
        cls = _spec_class(doc.kind)
        try:
            doc.spec = cls.model_validate(doc.data)
        except ValidationError as e:
            problems.extend(validation_problems(doc, cls, e))
        project.documents.append(doc)
        if doc.spec is not None:
            _collect(project, doc)
    if options.skip_unknown and not project.documents and not problems:
        return LoadResult(project, problems)
    if not any_yaml:
        shown = ", ".join(str(p) for p in given)
        raise UserInputError(
            f"no YAML files found under {shown}",
            Location(str(given[0])),
            "pass the folder or files that hold your az-ml endpoint, deployment and environment YAML",
        )
    if not project.documents and not problems:
        raise UserInputError(
            "no az-ml online endpoint, deployment, environment or model YAML found",
            Location(str(given[0])),
            "amlforge recognises files by their $schema line or their keys (endpoint_name, instance_type, ...)",
        )
    return LoadResult(project, problems)


#: Written by ``amlforge generate`` in its output folder: the spec and the files it generated.
GENERATED_MANIFEST = ".amlforge-generated.json"


def _generated_from_specs_of_the_run(found: Sequence[tuple[Path, bool]]) -> set[Path]:
    """Files that ``amlforge generate`` wrote from a spec that this run lints too.

    A folder with ``amlforge.yaml`` and its ``generated/`` output would otherwise report each
    finding twice: once in the generated file and once at the spec's line.
    """
    specs = {Path(os.path.abspath(p)) for p, _ in found if p.name in _PROJECT_SPEC_NAMES}
    if not specs:
        return set()
    skipped: set[Path] = set()
    seen: set[Path] = set()
    for path, explicit in found:
        out = path.parent.parent
        if explicit or out in seen:
            continue
        seen.add(out)
        spec, files = read_generated_manifest(out)
        if spec in specs:
            skipped.update(out / f for f in files)
    return skipped


def read_generated_manifest(out_dir: Path) -> tuple[Path | None, list[str]]:
    """The spec (absolute) and the files (relative, none leaving the folder) that
    ``amlforge generate`` listed in ``out_dir``'s manifest; ``(None, [])`` without a readable one."""
    import json

    try:
        data = json.loads((out_dir / GENERATED_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(data, dict):
        return None, []
    files = data.get("files")
    files = [f for f in files if isinstance(f, str) and ".." not in f.split("/") and not f.startswith("/")] \
        if isinstance(files, list) else []
    spec = data.get("spec")
    absolute = Path(os.path.normpath(os.path.join(os.path.abspath(out_dir), spec))) if isinstance(spec, str) else None
    return absolute, files


def _read_document(path: Path, explicit: bool, options: LoadOptions, problems: list[LoadProblem]) -> Document | None:
    display = display_path(path)
    try:
        in_memory = options.overlay.text(path) if options.overlay is not None else None
        text = read_text(path, display, options.max_file_bytes) if in_memory is None else in_memory
        data, smap = parse_yaml(text, display, options.variables)
    except UserInputError as e:
        if explicit or in_memory is not None or _worth_reporting(path):
            code = _input_problem_code(e.message)
            problems.append(LoadProblem(code, e.location or Location(display), e.message, e.hint, fatal=True))
        return None
    if data is None:
        if explicit:
            problems.append(LoadProblem(
                "AML005", Location(display, 1, 1), "file is empty",
                "write an az-ml endpoint, deployment or environment here, or remove the file", fatal=True))
        return None
    if not isinstance(data, dict):
        if explicit or _AML_SNIFF.search(text):
            problems.append(LoadProblem(
                "AML005", smap.locate(()), f"the document is {_show(data)}, expected a mapping of keys",
                "an az-ml file is a mapping such as 'name: my-endpoint'", fatal=True))
        return None
    if is_project_spec(path, data):
        return Document(path, display, PROJECT_SPEC, data, smap, explicit=explicit)
    kind = classify(data)
    if kind is None or kind.startswith("unsupported:"):
        if explicit:
            what = kind.split(":", 1)[1] if kind else "not recognised"
            problems.append(LoadProblem(
                "AML005", smap.locate(("$schema",) if kind else ()),
                f"not an online endpoint, deployment, environment or model file ({what})",
                "add the right $schema line, or pass only the online endpoint files", fatal=True))
        return None
    return Document(path, display, kind, data, smap, explicit=explicit)


def _worth_reporting(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return False
    return b"\x00" not in head and bool(_AML_SNIFF.search(head.decode("utf-8", "replace")))


def _input_problem_code(message: str) -> str:
    if message.startswith("invalid YAML") or "mapping key" in message or "merge key" in message:
        return "AML002"
    if "expands to more than" in message or "nests" in message or "refers to itself" in message:
        return "AML003"
    if "larger than" in message:
        return "AML004"
    return "AML001"


def _collect(project: Project, doc: Document) -> None:
    from amlforge.specs.environment import EnvironmentSpec
    from amlforge.specs.model import ModelSpec

    spec = doc.spec
    if doc.family == "endpoint":
        project.endpoints.append(Loaded(spec, doc))
    elif doc.family == "deployment":
        project.deployments.append(Loaded(spec, doc))
        if isinstance(spec.environment, EnvironmentSpec):
            project.environments.append(Loaded(spec.environment, doc, ("environment",)))
        if isinstance(spec.model, ModelSpec):
            project.models.append(Loaded(spec.model, doc, ("model",)))
    elif doc.family == "environment":
        project.environments.append(Loaded(spec, doc))
    elif doc.family == "model":
        project.models.append(Loaded(spec, doc))


__all__ = [
    "PROJECT_SPEC",
    "LoadOptions",
    "LoadProblem",
    "LoadResult",
    "SCHEMA_HOSTS",
    "classify",
    "discover",
    "display_path",
    "field_keys",
    "find_root",
    "is_project_spec",
    "load_project",
]
