"""Load source files into a :class:`~amlforge.specs.project.Project`.

Steps: discover files under the given paths, hand each to the reader of its form
(``amlforge/readers/``), which returns az-ml-shaped documents with a source map into the
original file; apply ``--set`` overrides, validate each document into a spec model, and collect
endpoints, deployments, environments and models (inline ones too).
Problems are returned as :class:`LoadProblem` values, never raised, so that one bad file does
not hide the findings of the others.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.readers.azml_yaml import (
    _PROJECT_SPEC_NAMES,
    PROJECT_SPEC,
    SCHEMA_HOSTS,
    _show,
    classify,
    is_project_spec,
)
from amlforge.readers.base import LoadOptions, LoadProblem, claimed, reader_for
from amlforge.specs.edits import Fix
from amlforge.specs.files import DEFAULT_EXCLUDE, path_problem
from amlforge.specs.overlay import Overlay
from amlforge.specs.project import Document, Loaded, Project
from amlforge.specs.source import YamlPath, parse_yaml


class NothingToLint(UserInputError):
    """The folders given hold no file to lint (``amlforge lint`` warns and exits 0)."""


class LoadResult(Struct):
    """A loaded project and the problems met on the way."""

    project: Project
    problems: list[LoadProblem]
    #: Files read and found to hold nothing to lint, with the reason (shown by ``lint -v``).
    skipped: list[tuple[str, str]] = field(default_factory=list)


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
    start = start if os.path.isdir(start) else start.parent
    for candidate in (start, *start.parents):
        if any((candidate / m).exists() for m in markers):
            return candidate
    cwd = Path.cwd()
    return cwd if (start == cwd or cwd in start.parents) else start


def discover(paths: Sequence[Path], overlay: Overlay | None = None) -> Iterator[tuple[Path, bool]]:
    """YAML files under ``paths``, sorted; each with whether the user named it explicitly.
    Folders named in :data:`~amlforge.specs.files.DEFAULT_EXCLUDE` are not entered, as in a
    ``lint`` run without a configuration (other dot-folders such as ``.github`` are).

    Raises:
        UserInputError: a path does not exist.
    """
    for given in paths:
        if overlay is not None and overlay.covers(given):
            if overlay.is_dir(given):
                for path in overlay.files_under(given):
                    if claimed(path):
                        yield path, False
                continue
            if overlay.exists(given):
                yield given, True
                continue
            raise UserInputError("no such file or directory", Location(str(given)), "check the path")
        problem = path_problem(given)
        if problem is not None:
            raise UserInputError(problem, Location(str(given), 1, 1), "shorten the path: a file name may have at most 255 bytes")
        if os.path.isdir(given):
            found = []
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames if d not in DEFAULT_EXCLUDE)
                found.extend(path for f in filenames if f != GENERATED_MANIFEST and claimed(path := Path(dirpath, f)))
            if overlay is not None:  # files that exist only in memory (an editor's new, unsaved file)
                on_disk = {Path(os.path.abspath(p)) for p in found}
                found.extend(p for p in overlay.files_under(given) if claimed(p) and p not in on_disk
                             and not any(part in DEFAULT_EXCLUDE for part in p.relative_to(os.path.abspath(given)).parts))
            for path in sorted(found):
                yield path, False
        elif os.path.exists(given):  # False, not an error, for any OSError
            yield given, True
        elif given.is_symlink():
            raise _broken_link(given)
        else:
            raise UserInputError("no such file or directory", Location(str(given)), "check the path")


def _broken_link(path: Path) -> UserInputError:
    """A symbolic link that leads nowhere: to itself (a loop) or to a missing file."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return UserInputError("symbolic link that loops (it leads back to itself)", Location(str(path)),
                              "point the link at a real file, or remove it")
    except OSError as e:
        import errno

        if e.errno == errno.ELOOP:
            return UserInputError("symbolic link that loops (it leads back to itself)", Location(str(path)),
                                  "point the link at a real file, or remove it")
    return UserInputError(f"symbolic link to '{os.readlink(path)}', which does not exist", Location(str(path)),
                          "fix the link, or remove it")


#: Document kind -> module and class of its spec model. Imported when a document of the kind is
#: read: a run without instance types or models builds none of their models.
_SPEC_CLASSES = {
    "managed_endpoint": ("amlforge.specs.endpoint", "ManagedOnlineEndpoint"),
    "kubernetes_endpoint": ("amlforge.specs.endpoint", "KubernetesOnlineEndpoint"),
    "managed_deployment": ("amlforge.specs.deployment", "ManagedOnlineDeployment"),
    "kubernetes_deployment": ("amlforge.specs.deployment", "KubernetesOnlineDeployment"),
    "environment": ("amlforge.specs.environment", "EnvironmentSpec"),
    "model": ("amlforge.specs.model", "ModelSpec"),
    "kubernetes_instancetype": ("amlforge.specs.instance_type", "InstanceTypeSpec"),
    "kubernetes_instancetypelist": ("amlforge.specs.instance_type", "InstanceTypeListSpec"),
}


def _spec_class(kind: str) -> type:
    import importlib

    module, name = _SPEC_CLASSES[kind]
    return getattr(importlib.import_module(module), name)


#: ``--set KIND:key=value`` prefixes and the document families they select.
OVERRIDE_KINDS = ("endpoint", "deployment", "environment", "model")


class Override(Struct, frozen=True):
    """One ``--set [KIND:]key.path=value``: what az ml's ``--set`` does to the file it creates."""

    kind: str | None
    path: tuple[str | int, ...]
    value: Any
    text: str


def parse_overrides(pairs: Sequence[tuple[str, str]]) -> list[Override]:
    """``--set`` pairs as overrides.

    ``KIND:`` (endpoint, deployment, environment, model) selects the documents; without it a key
    applies to every document whose kind has that top-level field, so ``endpoint_name`` reaches
    deployments only, as ``az ml online-deployment create --set`` would.

    Raises:
        UserInputError: an unknown kind, an empty key, or a value that is not valid YAML.
    """
    out = []
    for key, raw in pairs:
        kind: str | None = None
        text = f"--set {key}={raw}"
        if ":" in key and "." not in key.partition(":")[0]:  # tags.a:b=1 is a key, not a kind
            kind, _, key = key.partition(":")
            kind = kind.strip().lower()
            if kind not in OVERRIDE_KINDS:
                raise UserInputError(f"--set {kind}:...: unknown kind '{kind}'", None,
                                     "prefix the key with one of " + ", ".join(f"{k}:" for k in OVERRIDE_KINDS)
                                     + " (e.g. --set deployment:name=blue), or leave the prefix out")
        parts = [p.strip() for p in key.split(".")]
        if not all(parts):
            raise UserInputError(f"{text}: the key has an empty part", None, "write --set key.sub_key=value")
        try:  # the bounded reader: tags, huge numbers, nesting and aliases are errors, not crashes
            value = parse_yaml(raw, "--set")[0] if raw else ""
        except UserInputError as e:
            problem = e.message.removeprefix("invalid YAML: ")
            raise UserInputError(
                f"{text}: the value is not valid YAML ({problem})", None,
                "quote a value with YAML syntax in it, e.g. --set 'key=\"[x\"', or write it as YAML: "
                "--set 'key=[a, b]'") from None
        path = tuple(int(p) if p.isdigit() and len(p) < 10 else p for p in parts)
        out.append(Override(kind, path, value, text))
    return out


def _applies(override: Override, doc: Document) -> tuple[str | int, ...] | None:
    """Where ``override`` applies in ``doc`` (a path prefix), or ``None`` when it does not."""
    family = doc.family
    if override.kind is not None:
        if override.kind == family:
            return ()
        if family == "deployment" and override.kind in ("environment", "model") \
                and isinstance(doc.data.get(override.kind), dict):
            return (override.kind,)  # the deployment's inline environment or model
        return None
    top = override.path[0]
    return () if top in field_keys(_spec_class(doc.kind)) else None


def _apply_overrides(doc: Document, overrides: Sequence[Override]) -> None:
    for override in overrides:
        base = _applies(override, doc)
        if base is None:
            continue
        import copy

        parts = base + override.path
        value = copy.deepcopy(override.value)
        target: Any = doc.data
        for part in parts[:-1]:
            if isinstance(target, dict):
                child = target.get(part)
                if not isinstance(child, (dict, list)):
                    child = target[part] = {}
                target = child
            elif isinstance(target, list) and isinstance(part, int) and part < len(target):
                target = target[part]
            else:
                break
        else:
            if isinstance(target, dict):
                target[parts[-1]] = value
            elif isinstance(target, list) and isinstance(parts[-1], int) and parts[-1] < len(target):
                target[parts[-1]] = value
            else:
                continue
            doc.source.overrides[tuple(parts)] = override.text
            # the value is now the command line's: forget what the file had there
            for table in (doc.source.unknown,):
                for stale in [p for p in table if p[:len(parts)] == tuple(parts)]:
                    del table[stale]


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


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def meant_key(key: str, choices: Sequence[str], present: Sequence[str] = ()) -> str | None:
    """The one accepted key that ``key`` was meant to be, or None when that is not clear.

    Clear means: the only free key that differs in case or ``-``/``_`` only, or a free key whose
    similarity is at least 0.8 and 0.1 above every other's. Keys already in the mapping are not
    candidates (renaming onto one would make a duplicate).
    """
    free = [c for c in dict.fromkeys(choices) if c not in present and not c.startswith("$")]
    folded = key.lower().replace("-", "_")
    same = [c for c in free if c.lower().replace("-", "_") == folded]
    if len(same) == 1:
        return same[0]
    import difflib  # here: ~1 ms of start-up, used only to suggest or show a diff
    scored = sorted(((difflib.SequenceMatcher(None, key, c).ratio(), c) for c in free), reverse=True)
    if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[1][0] <= scored[0][0] - 0.1):
        return scored[0][1]
    return None


def _rename_fix(doc: Document, path: YamlPath, choices: Sequence[str]) -> Fix | None:
    from amlforge.specs.edits import rename_key

    parent: Any = doc.data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(parent, dict):
        return None
    target = meant_key(str(path[-1]), choices, list(parent))
    if target is None:
        return None
    return rename_key(doc.source, path, target, f"Rename '{path[-1]}' to '{target}'")


def validation_problems(doc: Document, cls: type, error: Any) -> list[LoadProblem]:
    """Convert a pydantic ``ValidationError`` into located problems."""
    problems = []
    for err in error.errors(include_url=False):
        kind = err["type"]
        owner, path = _model_at(cls, err["loc"])
        if doc.source.is_unknown(tuple(path)):
            continue  # a value the reader could not know: no rule guesses with it
        if kind == "extra_forbidden":
            parent_cls, _ = _model_at(cls, err["loc"][:-1])
            key = str(path[-1])
            choices = field_keys(parent_cls) if parent_cls else []
            import difflib
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
                f"unknown field '{key}'" + (f" in {where}" if path[:-1] else ""), hint,
                fix=_rename_fix(doc, tuple(path), choices)))
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
            expected = _literal_choices(err.get("ctx", {}).get("expected", ""))
            value = err.get("input")
            import difflib
            close = difflib.get_close_matches(str(value), expected, n=1, cutoff=0.5)
            wanted = f"expected {expected[0]}" if len(expected) == 1 else f"expected one of {', '.join(expected)}"
            if list(path) == ["version"]:
                hint = (f"this amlforge reads spec format version {', '.join(expected)}; write 'version: "
                        f"{expected[-1]}' (a newer amlforge may read version {_show(value)})")
            elif close and len(expected) > 1:
                hint = f"did you mean '{close[0]}'?"
            else:
                hint = f"write {expected[0]}" if len(expected) == 1 else f"use one of: {', '.join(expected)}"
            problems.append(LoadProblem(
                "AML104", doc.source.locate(tuple(path)), f"'{_dotted(path)}' is {_show(value)}, {wanted}", hint))
        elif kind == "environment_source":
            at = tuple(path) + ((err["ctx"]["field"],) if err.get("ctx", {}).get("field") else ())
            problems.append(LoadProblem(
                "AML104", doc.source.locate(at, key=True), err["msg"],
                "an environment is either a base image (optionally with conda_file) or a Docker build context"))
        else:
            message = err["msg"]
            hint = "fix the value at this position"
            if kind == "string_too_short":
                message = f"'{_dotted(path)}' must not be empty"
            elif kind == "too_short":
                least = err.get("ctx", {}).get("min_length", 1)
                what = str(path[-1]) if path else "value"
                message = f"'{_dotted(path)}' is empty; it needs at least {least} {'entry' if least == 1 else 'entries'}"
                hint = f"add at least {least} entr{'y' if least == 1 else 'ies'} under '{what}'"
            problems.append(LoadProblem(
                "AML104", doc.source.locate(tuple(path)),
                message[0].lower() + message[1:] if message else "invalid value", hint))
    return problems


def _literal_choices(expected: str) -> list[str]:
    """The choices of pydantic's literal_error ``expected``: "'a', 'b' or 'c'", or "1" for ``Literal[1]``."""
    return [c.strip().strip("'") for c in re.split(r",\s*|\s+or\s+", expected) if c.strip()]


# ---------------------------------------------------------------------------------------------


def load_project(paths: Sequence[Path | str], options: LoadOptions | None = None) -> LoadResult:
    """Load every source file under ``paths`` that a reader claims into a :class:`Project`.

    Raises:
        UserInputError: a given path does not exist, or nothing to lint was found.
    """
    options = options or LoadOptions()
    parse_overrides(options.overrides)  # a bad --set is a usage error, before any file is read
    given = [Path(p) for p in paths] or [Path(".")]
    root = Path(os.path.abspath(options.root)) if options.root else find_root(given)
    project = Project(root=root, profile=options.profile, overlay=options.overlay)
    problems: list[LoadProblem] = []
    skipped: list[tuple[str, str]] = []
    seen: set[Path] = set()
    any_yaml = False
    found = list(options.files) if options.files is not None else list(discover(given, options.overlay))
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
        read = reader_for(absolute).read(absolute, display_path(absolute), explicit, options)
        problems.extend(read.problems)
        project.package_bases.update(name.lower() for name in read.package_bases)
        if read.skipped and not read.documents and not read.problems:
            skipped.append((display_path(absolute), read.skipped))
        for doc in read.documents:
            _add_document(project, doc, options, problems)
    if (options.skip_unknown or options.files is not None) and not project.documents and not problems:
        return LoadResult(project, problems, skipped)
    if not any_yaml:
        shown = ", ".join(str(p) for p in given)
        raise NothingToLint(
            f"no YAML files found under {shown}",
            Location(str(given[0])),
            "pass the folder or files that hold your az-ml endpoint, deployment and environment YAML",
        )
    if not project.documents and not problems:
        raise NothingToLint(
            "no az-ml online endpoint, deployment, environment or model found" + (
                f" ({len(skipped)} file(s) skipped as not az-ml; -v lists them)" if skipped else ""),
            Location(str(given[0])),
            "amlforge recognises files by their $schema line or their keys (endpoint_name, instance_type, ...)",
        )
    return LoadResult(project, problems, skipped)


def _add_document(project: Project, doc: Document, options: LoadOptions, problems: list[LoadProblem]) -> None:
    """Validate one document into its spec and add it (and what it holds) to the project."""
    from pydantic import ValidationError

    if doc.kind == PROJECT_SPEC:
        # amlforge.yaml: validated here (located problems); its resources reach the
        # policies through the az-ml YAML that `amlforge generate` writes and lints.
        from amlforge.specs.project_spec import validate_document

        doc.spec, spec_problems = validate_document(doc)
        problems.extend(spec_problems)
        project.documents.append(doc)
        return
    if options.overrides:
        _apply_overrides(doc, parse_overrides(options.overrides))
    cls = _spec_class(doc.kind)
    try:
        doc.spec = cls.model_validate(doc.data)
    except ValidationError as e:
        problems.extend(validation_problems(doc, cls, e))
        if doc.source.unknown:
            doc.spec = _validate_without_unknown(doc, cls, e)
    project.documents.append(doc)
    if doc.spec is not None:
        _collect(project, doc)


def _validate_without_unknown(doc: Document, cls: type, error: Any) -> Any:
    """The spec of a document whose only invalid values are unknown ones (a reader could not
    know them statically): validated again without them, so that the rules still check what
    is known. ``None`` when the unknown values were required."""
    import copy

    from pydantic import ValidationError

    bad = [tuple(_model_at(cls, err["loc"])[1]) for err in error.errors(include_url=False)]
    if not bad or not all(doc.source.is_unknown(p) for p in bad):
        return None
    data = copy.deepcopy(doc.data)
    for path in bad:
        parent: Any = data
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    try:
        return cls.model_validate(data)
    except ValidationError:
        return None


#: Written by ``amlforge generate`` in its output folder: the spec and the files it generated.
GENERATED_MANIFEST = ".amlforge-generated.json"


def _generated_from_specs_of_the_run(found: Sequence[tuple[Path, bool]]) -> set[Path]:
    """Files that ``amlforge generate`` wrote from a spec that this run lints too.

    A folder with ``amlforge.yaml`` and its ``generated/`` output would otherwise report each
    finding twice: once in the generated file and once at the spec's line.
    """
    skipped = _generated_templates_beside_their_yaml(found)
    specs = {Path(os.path.abspath(p)) for p, _ in found if p.name in _PROJECT_SPEC_NAMES}
    if not specs:
        return skipped
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


def _generated_templates_beside_their_yaml(found: Sequence[tuple[Path, bool]]) -> set[Path]:
    """Templates (ARM, Bicep, Terraform) that ``amlforge generate`` wrote next to the az-ml YAML
    of the same resources: a folder walk lints those resources once, through the YAML."""
    skipped: set[Path] = set()
    manifests: dict[Path, list[str]] = {}
    for path, explicit in found:
        if explicit or path.suffix.lower() in (".yml", ".yaml"):
            continue
        out = path.parent.parent
        if out not in manifests:
            manifests[out] = read_generated_manifest(out)[1]
        files = manifests[out]
        if any(f.endswith((".yml", ".yaml")) for f in files) and \
                os.path.relpath(path, out).replace(os.sep, "/") in files:
            skipped.add(path)
    return skipped


def read_generated_manifest(out_dir: Path) -> tuple[Path | None, list[str]]:
    """The spec (absolute) and the files (relative, none leaving the folder) that
    ``amlforge generate`` listed in ``out_dir``'s manifest; ``(None, [])`` without a readable one."""
    import json

    from amlforge.specs.files import read_user_bytes

    try:  # a regular file only, never through a link: the manifest is amlforge's own
        data = json.loads(read_user_bytes(out_dir / GENERATED_MANIFEST, max_bytes=5 * 1024 * 1024, nofollow=True))
    except (UserInputError, ValueError, RecursionError):
        return None, []
    if not isinstance(data, dict):
        return None, []
    files = data.get("files")
    files = [f for f in files if isinstance(f, str) and ".." not in f.split("/") and not f.startswith("/")] \
        if isinstance(files, list) else []
    spec = data.get("spec")
    absolute = Path(os.path.normpath(os.path.join(os.path.abspath(out_dir), spec))) if isinstance(spec, str) else None
    return absolute, files


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
    elif doc.family == "instancetype":
        project.instance_types.append(Loaded(spec, doc))
    elif doc.family == "instancetypelist":
        project.instance_types.extend(Loaded(item, doc, ("items", i)) for i, item in enumerate(spec.items))


__all__ = [
    "PROJECT_SPEC",
    "LoadOptions",
    "LoadProblem",
    "LoadResult",
    "NothingToLint",
    "SCHEMA_HOSTS",
    "classify",
    "discover",
    "display_path",
    "field_keys",
    "find_root",
    "is_project_spec",
    "load_project",
]
