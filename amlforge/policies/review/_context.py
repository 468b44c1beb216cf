"""What the review rules compare against, and the comparisons several of them share.

Not a rule (the catalog loader skips ``_`` modules). ``amlforge review`` loads the base
configuration into a :class:`~amlforge.specs.project.Project`, then lints the configuration under
review inside :func:`reviewing`; each review rule reads the base with :func:`base_of` and finds
nothing outside a review.

Resources are matched by name, as Azure does: endpoints by name, deployments by endpoint name and
deployment name (both case-insensitive). Deployments whose names are left to deploy time
(``--set name=...``) cannot be matched and are skipped.

A deployment "changes" when its YAML changes or when the files it names change: the model path,
the code folder, the conda file, the Docker build context. Files are compared by content;
``__pycache__``, ``*.pyc`` and dot files are ignored (a work tree has them, a commit does not).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from msgspec import Struct

from amlforge.specs.files import is_regular_file
from amlforge.specs.project import Loaded, Project, is_local_path

#: Largest number of bytes hashed for one path; beyond it only names and sizes are compared.
MAX_HASHED_BYTES = 512 * 1024 * 1024


class ReviewContext(Struct, frozen=True):
    """The base side of a review.

    Attributes:
        base: The configuration at the base reference (an empty project when it had none).
        ref: The reference as the user gave it (``main``, ``origin/main``).
    """

    base: Project
    ref: str


_CURRENT: ContextVar[ReviewContext | None] = ContextVar("amlforge_review", default=None)


@contextlib.contextmanager
def reviewing(context: ReviewContext) -> Iterator[ReviewContext]:
    """Make ``context`` visible to the review rules while the configuration under review is linted."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def reviewing_rendered(spec: str) -> Iterator[None]:
    """While the YAML rendered from the spec at ``spec`` (relative to the root) is linted under
    review, compare it with the YAML rendered from the same spec at the base (an empty project
    when the base has no such spec)."""
    context = _CURRENT.get()
    if context is None:
        yield
        return
    base = context.base.rendered.get(spec) or Project(root=context.base.root, profile=context.base.profile)
    token = _CURRENT.set(ReviewContext(base, context.ref))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def base_of(project: Project) -> ReviewContext | None:
    """The review the project is linted in, or None outside ``amlforge review``."""
    context = _CURRENT.get()
    if context is None or context.base is project:
        return None
    return context


# --- matching ---------------------------------------------------------------------------------------


def endpoints(project: Project) -> dict[str, Loaded[Any]]:
    """Named endpoints by lower-cased name."""
    return {ep.spec.name.lower(): ep for ep in project.endpoints if ep.spec.name}


def deployments(project: Project) -> dict[tuple[str, str], Loaded[Any]]:
    """Deployments by (lower-cased endpoint name, lower-cased deployment name)."""
    out = {}
    for dep in project.deployments:
        if dep.spec.name and dep.spec.endpoint_name:
            out[(dep.spec.endpoint_name.lower(), dep.spec.name.lower())] = dep
    return out


def pairs(context: ReviewContext, project: Project) -> Iterator[tuple[Loaded[Any], Loaded[Any]]]:
    """(base, head) for every deployment that exists on both sides, in the head's load order."""
    before = deployments(context.base)
    for key, dep in deployments(project).items():
        if key in before:
            yield before[key], dep


def traffic(project: Project, endpoint_name: str | None) -> dict[str, int] | None:
    """Live traffic of an endpoint by lower-cased deployment name; None when the run does not say."""
    if not endpoint_name:
        return None
    ep = endpoints(project).get(endpoint_name.lower())
    if ep is None or ep.spec.traffic is None:
        return None
    return {k.lower(): v for k, v in ep.spec.traffic.items()}


def share(project: Project, dep: Loaded[Any]) -> int | None:
    """The live traffic share of a deployment, or None when unknown."""
    split = traffic(project, dep.spec.endpoint_name)
    if split is None:
        return None
    return split.get((dep.spec.name or "").lower(), 0)


def raw(loaded: Loaded[Any]) -> dict[str, Any]:
    """The YAML mapping of a spec (after --set overrides)."""
    node: Any = loaded.doc.data
    for part in loaded.prefix:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


# --- content of referenced files ----------------------------------------------------------------------


def fingerprint(project: Project, owner: Loaded[Any], value: Any) -> str | None:
    """A digest of the local file or folder ``value`` names (relative to ``owner``'s file), or None."""
    if not isinstance(value, str) or not is_local_path(value):
        return None
    resolved = project.local_path(owner, value)
    if not resolved.exists:
        return None
    return project.memo(("review", "digest", resolved.path), lambda: _digest(resolved.path))


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        out.extend(Path(dirpath, f) for f in sorted(filenames) if not f.startswith(".") and not f.endswith(".pyc"))
    return out


def _digest(path: Path) -> str:
    files = _files(path)
    h = hashlib.sha256()
    total = 0
    for f in files:
        try:
            size = f.stat().st_size
        except OSError:
            continue
        rel = f.relative_to(path).as_posix() if path.is_dir() else ""
        h.update(f"{rel}\0{size}\0".encode())
        total += size
        if total > MAX_HASHED_BYTES:
            continue  # very large models: names and sizes only
        if not is_regular_file(f):  # a FIFO or device in a model folder is never opened
            continue
        try:
            with open(f, "rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            continue
    return h.hexdigest()


# --- what changed in a deployment -----------------------------------------------------------------------

#: Aspects of a deployment, and the YAML keys that make them up.
ASPECT_KEYS = {
    "model": ("model", "model_mount_path"),
    "environment": ("environment",),
    "code": ("code_configuration",),
    "instance type": ("instance_type", "resources"),
    "scale": ("instance_count", "scale_settings"),
    "request settings": ("request_settings",),
    "probes": ("liveness_probe", "readiness_probe"),
    "environment variables": ("environment_variables",),
}
#: Keys that do not change what runs.
IGNORED_KEYS = {"$schema", "name", "endpoint_name", "description", "tags", "properties", "id",
                "provisioning_state"}


def _model_files(project: Project, dep: Loaded[Any]) -> str | None:
    model = raw(dep).get("model")
    if isinstance(model, dict):
        return fingerprint(project, dep, model.get("path"))
    return None


def _environment_files(project: Project, dep: Loaded[Any]) -> tuple[str | None, ...]:
    env = raw(dep).get("environment")
    if not isinstance(env, dict):
        return ()
    build = env.get("build")
    return (fingerprint(project, dep, env.get("conda_file")),
            fingerprint(project, dep, build.get("path") if isinstance(build, dict) else None))


def _code_files(project: Project, dep: Loaded[Any]) -> str | None:
    code = raw(dep).get("code_configuration")
    return fingerprint(project, dep, code.get("code")) if isinstance(code, dict) else None


def model_change(base: Project, before: Loaded[Any], head: Project, after: Loaded[Any]) -> str | None:
    """How the model changes ("azureml:iris:3 -> azureml:iris:4", "files under ./model"), or None."""
    a, b = raw(before).get("model"), raw(after).get("model")
    if a != b:
        return f"{_describe(a)} -> {_describe(b)}"
    if isinstance(b, dict) and _model_files(base, before) != _model_files(head, after):
        return f"the files under {b.get('path')}"
    return None


def environment_change(base: Project, before: Loaded[Any], head: Project, after: Loaded[Any]) -> str | None:
    """How the environment changes, or None."""
    a, b = raw(before).get("environment"), raw(after).get("environment")
    if a != b:
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return "inline environment (" + ", ".join(f"{k}: {_describe(a.get(k))} -> {_describe(b.get(k))}"
                                                      for k in keys) + ")"
        return f"{_describe(a)} -> {_describe(b)}"
    if isinstance(b, dict):
        files_a, files_b = _environment_files(base, before), _environment_files(head, after)
        if files_a != files_b:
            which = "conda file " + str(b.get("conda_file")) if files_a[:1] != files_b[:1] else \
                "build context " + str((b.get("build") or {}).get("path"))
            return f"the content of the {which}"
    return None


def changed_in_place(project: Project, change: Any) -> Iterator[tuple[Loaded[Any], str, int | None]]:
    """Deployments under review (same endpoint, same name) whose ``change(base, before, head,
    after)`` is not None: each with that description and its live traffic share (None: unknown)."""
    context = base_of(project)
    if context is None:
        return
    for before, after in pairs(context, project):
        what = change(context.base, before, project, after)
        if what is not None:
            yield after, what, share(project, after)


def changed_aspects(base: Project, before: Loaded[Any], head: Project, after: Loaded[Any]) -> list[str]:
    """The aspects of a deployment that change between base and head, in :data:`ASPECT_KEYS` order."""
    a, b = raw(before), raw(after)
    files_changed = {
        "model": lambda: model_change(base, before, head, after) is not None,
        "environment": lambda: environment_change(base, before, head, after) is not None,
        "code": lambda: _code_files(base, before) != _code_files(head, after),
    }
    out = []
    for aspect, keys in ASPECT_KEYS.items():
        yaml_changed = any(a.get(k) != b.get(k) for k in keys)
        if yaml_changed or (aspect in files_changed and files_changed[aspect]()):
            out.append(aspect)
    known = {k for keys in ASPECT_KEYS.values() for k in keys} | IGNORED_KEYS
    if any(a.get(k) != b.get(k) for k in (set(a) | set(b)) - known):
        out.append("other settings")
    return out


def _describe(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict):
        return f"inline at {value['path']}" if "path" in value else "an inline mapping"
    return str(value)


def listing(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


__all__ = [
    "ASPECT_KEYS",
    "ReviewContext",
    "base_of",
    "changed_aspects",
    "changed_in_place",
    "deployments",
    "endpoints",
    "environment_change",
    "fingerprint",
    "listing",
    "model_change",
    "pairs",
    "raw",
    "reviewing",
    "reviewing_rendered",
    "share",
    "traffic",
]
