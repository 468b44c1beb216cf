"""Which conda files to lock: given directly, or named by az-ml environments and deployments."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from amlforge.errors import Location, UserInputError

if TYPE_CHECKING:
    from amlforge.specs.loader import LoadResult


def _load(specs: list[Path]) -> LoadResult:
    """``load_project`` of ``specs``, folders walked as ``amlforge lint`` walks them: without what
    each folder's configuration excludes (``exclude``, ``extend-exclude``) and amlforge's generated
    output, so ``lock DIR`` never locks an excluded project's environment."""
    from amlforge.policies.settings import Resolver
    from amlforge.specs.loader import LoadOptions, load_project

    if not any(p.is_dir() for p in specs):
        return load_project(specs, LoadOptions(skip_unknown=True))
    files = Resolver().files(specs)
    return load_project([p for p, _ in files], LoadOptions(skip_unknown=True, files=files))


def conda_files_for(paths: Sequence[Path]) -> list[Path]:
    """Conda files for ``amlforge lock PATH...``.

    A path that is a conda file (a mapping with ``dependencies`` and no az-ml keys) is taken
    as it is; a folder, an environment or deployment YAML, or an ``amlforge.yaml`` spec
    contributes the local conda files its environments name (resolved against the YAML file's
    folder, as the az CLI and ``amlforge generate`` do).

    Raises:
        UserInputError: a YAML file or folder names no conda file at all.
    """
    from amlforge.specs.files import read_user_text
    from amlforge.specs.loader import PROJECT_SPEC, classify, is_project_spec
    from amlforge.specs.project import is_local_path
    from amlforge.specs.source import parse_yaml

    out: list[Path] = []
    specs: list[Path] = []
    for path in paths:
        if not path.exists():
            out.append(path)  # the lock reports it as failed, and the other files still lock
            continue
        if path.is_file():
            try:
                data, _ = parse_yaml(read_user_text(path, str(path)), str(path))
            except UserInputError:
                data = None  # let the conda-file reader report it with its line
            if isinstance(data, dict) and is_project_spec(path, data):
                specs.append(path)
                continue
            if not isinstance(data, dict) or classify(data) is None:
                out.append(path)
                continue
        specs.append(path)
    if specs:
        result = _load(specs)
        found = 0
        for env in result.project.environments:
            value = env.spec.conda_file
            if isinstance(value, str) and is_local_path(value):
                resolved = result.project.local_path(env, value)
                if resolved.exists and not resolved.is_dir:
                    out.append(resolved.path)
                    found += 1
        for doc in result.project.documents:  # amlforge.yaml: the conda files of its environments
            if doc.kind != PROJECT_SPEC:
                continue
            environments = doc.data.get("environments") if isinstance(doc.data, dict) else None
            for env in (environments or {}).values() if isinstance(environments, dict) else ():
                value = env.get("conda_file") if isinstance(env, dict) else None
                if isinstance(value, str) and is_local_path(value):
                    path = Path(os.path.normpath(Path(doc.path).parent / value))
                    out.append(path)  # a missing one is reported by the lock, with the others locked
                    found += 1
        if not found:
            raise UserInputError("no environment here names a local conda file", Location(str(specs[0])),
                                 "pass conda files, amlforge.yaml, or environment/deployment YAML with conda_file")
    unique: list[Path] = []
    for p in out:
        if p.resolve() not in {u.resolve() for u in unique}:
            unique.append(p)
    return unique


__all__ = ["conda_files_for"]
