"""Imports of a scoring script and the distributions a deployment's environment installs.

Two shipped tables drive this (see ``amlforge/data/SOURCES.md``):

- ``import_names.json``: import name -> distributions that provide it (``sklearn`` ->
  ``scikit-learn``; ``cv2`` -> ``opencv-python`` and friends), for the names that differ from
  their distribution, plus the namespace packages (``azure``, ``azureml``, ``google``...).
- ``package_requires.json``: what installing a distribution brings along (the inference
  server's dependency closure, ``scikit-learn`` -> ``numpy``, ``scipy``, ``joblib``...),
  conda aliases (``pytorch`` -> ``torch``), and the packages of curated inference
  environments.
- ``package_deps.json``: the Requires-Dist of each distribution's own wheel, recursively from a
  few seeds (``azureml-mlflow`` -> ``mlflow-skinny``, which provides ``mlflow``), written by
  ``tools/package_deps.py`` from PyPI metadata.

An environment is only judged when amlforge can know everything in it: a conda file (inline
or local) on a Microsoft Azure ML base image, or a curated inference environment without a
conda file. Custom images, Docker build contexts, ``pip -r requirements.txt`` lines and
registered environments that are not in the project are skipped.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from typing import Any

from msgspec import Struct

from amlforge.data import load_json
from amlforge.specs.conda import normalise
from amlforge.specs.deployment import OnlineDeploymentBase
from amlforge.specs.project import Loaded, Project

#: Image prefix of Microsoft's Azure ML base and inference images (openmpi, inference-base, curated).
AZUREML_IMAGES = "mcr.microsoft.com/azureml/"
_TRY_STAR = getattr(ast, "TryStar", ast.Try)
_OPTIONAL_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@cache
def _table(name: str) -> dict[str, Any]:
    return load_json(name)


def import_table() -> dict[str, list[str]]:
    return _table("import_names.json")["modules"]


def namespaces() -> frozenset[str]:
    return frozenset(_table("import_names.json")["namespaces"])


@cache
def _requires() -> tuple[dict[str, list[str]], dict[str, str]]:
    """What each distribution brings along: ``package_deps.json`` (read from the wheels' own
    Requires-Dist by tools/package_deps.py) merged with ``package_requires.json`` (dependency
    closures of the inference server and the big frameworks)."""
    data = _table("package_requires.json")
    merged: dict[str, list[str]] = {name: list(deps) for name, deps in _table("package_deps.json")["requires"].items()}
    for name, deps in data["requires"].items():
        merged[name] = sorted(set(merged.get(name, ())) | set(deps))
    return merged, data["aliases"]


def curated_environments() -> dict[str, list[str]]:
    return _table("package_requires.json")["curated_environments"]


def closure(names: set[str]) -> frozenset[str]:
    """``names`` plus everything they bring along, per ``package_requires.json``."""
    requires, aliases = _requires()
    out: set[str] = set(_table("package_requires.json")["always_installed"])
    todo = [normalise(n) for n in names]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        canonical = aliases.get(name, name)
        if canonical != name:
            todo.append(canonical)
        todo.extend(requires.get(canonical, ()))
    return frozenset(out)


class EnvironmentPackages(Struct, frozen=True):
    """What one deployment's environment installs.

    Attributes:
        names: Normalised distribution names, including what they bring along.
        source: A short description for messages ("conda file env/conda.yaml").
    """

    names: frozenset[str]
    source: str


def environment_packages(project: Project, dep: Loaded[OnlineDeploymentBase]) -> EnvironmentPackages | None:
    """The packages of ``dep``'s environment, or None when they cannot be known offline."""
    env = project.environment_of(dep)
    if env is None:
        ref = dep.spec.environment
        if isinstance(ref, str):
            from amlforge.specs.references import parse_asset_ref

            parsed = parse_asset_ref(ref)
            curated = curated_environments()
            if parsed is not None and parsed.registry == "azureml" and parsed.name in curated:
                return project.memo(("scoring.curated", parsed.name), lambda: EnvironmentPackages(
                    closure(set(curated[parsed.name])), f"curated environment {parsed.name}"))
        return None

    def build() -> EnvironmentPackages | None:
        spec = env.spec
        image = (spec.image or "").strip()
        if spec.build is not None or not image.lower().startswith(AZUREML_IMAGES):
            return None  # custom images can carry any package
        if spec.conda_file is None:
            curated = curated_environments()
            name = image[len(AZUREML_IMAGES):].split("@", 1)[0].split(":", 1)[0]
            name = name.removeprefix("curated/")
            if name in curated:
                return EnvironmentPackages(closure(set(curated[name])), f"curated image {name}")
            return None
        conda = project.conda_for(env)
        if conda is None:
            return None
        for option in conda.pip_options:
            if option.startswith(("-r", "--requirement", "-e", "--editable")):
                return None  # packages listed elsewhere
        names = set()
        for dep_ in conda.dependencies:
            if "/" in dep_.name or ":" in dep_.name:
                return None  # a URL or a path: which distribution it is is unknown
            names.add(dep_.name)
        where = spec.conda_file if isinstance(spec.conda_file, str) else "inline conda_file"
        return EnvironmentPackages(closure(names), f"conda file {where}" if isinstance(spec.conda_file, str) else where)

    return project.memo(("scoring.packages", id(env)), build)


class ImportUse(Struct, frozen=True):
    """One imported module and the statement that imports it."""

    module: str
    node: ast.stmt


def _guarded_try(node: ast.Try) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for t in types:
            name = t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "")
            if name in _OPTIONAL_IMPORT_ERRORS:
                return True
    return False


def _skipped_if(node: ast.If) -> bool:
    """``if TYPE_CHECKING:`` and ``if __name__ == "__main__":`` never run in the server."""
    test = node.test
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
        return any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    return False


def imports(tree: ast.Module) -> list[ImportUse]:
    """Absolute imports that run when the script is imported or its functions are called.

    Imports inside ``try`` blocks that catch ImportError (optional imports, and their
    fallbacks in the handlers), under
    ``if TYPE_CHECKING`` or ``if __name__ == "__main__"`` are left out; so are relative imports.
    """
    out: list[ImportUse] = []
    ns = namespaces()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out.append(ImportUse(alias.name, node))
            elif isinstance(node, ast.ImportFrom):
                if node.level or not node.module:
                    continue
                root = node.module.split(".")[0]
                if root in ns:  # "from azure.storage import blob" imports azure.storage.blob
                    for alias in node.names:
                        out.append(ImportUse(f"{node.module}.{alias.name}" if alias.name != "*" else node.module, node))
                else:
                    out.append(ImportUse(node.module, node))
            elif isinstance(node, (ast.Try, _TRY_STAR)):
                if not _guarded_try(node):  # type: ignore[arg-type]
                    visit(node.body)  # type: ignore[attr-defined]
                    for handler in node.handlers:  # type: ignore[attr-defined]
                        visit(handler.body)
                visit(node.orelse)  # type: ignore[attr-defined]
                visit(node.finalbody)  # type: ignore[attr-defined]
            elif isinstance(node, ast.If):
                if not _skipped_if(node):
                    visit(node.body)
                visit(node.orelse)
            else:
                for name in ("body", "orelse", "finalbody"):
                    inner = getattr(node, name, None)
                    if isinstance(inner, list):
                        visit(inner)
                for handler in getattr(node, "handlers", ()) or ():
                    visit(handler.body)
                for case in getattr(node, "cases", ()) or ():  # match statements
                    visit(case.body)

    visit(tree.body)
    return out


def candidates(module: str) -> list[str]:
    """Distributions that would provide ``module`` (normalised), most likely first."""
    table = import_table()
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        key = ".".join(parts[:k])
        if key in table:
            found = [normalise(n) for n in table[key]]
            break
    else:
        found = []
    if parts[0] in namespaces():
        generic = [normalise("-".join(parts[:k])) for k in range(len(parts), 1, -1)]
        found += [g for g in generic if g not in found]
    if not found:
        found = [normalise(parts[0])]
    return found


def provided(module: str, names: frozenset[str]) -> bool:
    """Whether a distribution in ``names`` provides ``module``.

    Conda spellings of the same project (``py-``/``python-`` prefixes, ``-python`` suffix,
    ``py`` + name) count, to stay on the side of silence.
    """
    for c in candidates(module):
        if c in names or f"py-{c}" in names or f"python-{c}" in names or f"{c}-python" in names or f"py{c}" in names:
            return True
    return False


def is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


__all__ = [
    "AZUREML_IMAGES",
    "EnvironmentPackages",
    "ImportUse",
    "candidates",
    "closure",
    "curated_environments",
    "environment_packages",
    "import_table",
    "imports",
    "is_stdlib",
    "provided",
]
