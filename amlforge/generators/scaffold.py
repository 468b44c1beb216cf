"""``amlforge init``: a starter project that ``amlforge generate`` turns into clean artifacts."""

from __future__ import annotations

import re
from pathlib import Path

from amlforge.errors import Location, UserInputError
from amlforge.generators._render import render
from amlforge.generators.writer import write_atomic

#: Files of a new project, relative to its folder, and the templates they come from.
FILES = {
    "amlforge.yaml": "init/amlforge.yaml.j2",
    "onlinescoring/score.py": "init/score.py.j2",
    "environment/conda.yaml": "init/conda.yaml.j2",
    "model/model.json": "init/model.json.j2",
}


def endpoint_name_for(folder: Path) -> str:
    """A valid endpoint name from a folder name (``My Project`` -> ``my-project``)."""
    base = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    base = re.sub(r"^[^a-z]+", "", base)[:32].rstrip("-")
    return base if len(base) >= 3 else "my-endpoint"


def init_project(folder: Path | str, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the starter files into ``folder``; the paths written.

    Raises:
        UserInputError: a file exists (without ``force``), or the name is not a valid endpoint name.
    """
    from pydantic import TypeAdapter, ValidationError

    from amlforge.specs.project_spec import EndpointName

    root = Path(folder)
    endpoint = name or endpoint_name_for(root)
    try:
        TypeAdapter(EndpointName).validate_python(endpoint)
    except ValidationError as e:
        raise UserInputError(e.errors()[0]["msg"], None, "pass --name with a valid endpoint name") from None
    existing = [root / rel for rel in FILES if (root / rel).exists()]
    if existing and not force:
        raise UserInputError("the file exists", Location(str(existing[0])), "pass --force to overwrite, or choose "
                             "another folder")
    written = []
    for rel, template in FILES.items():
        write_atomic(root / rel, render(template, endpoint=endpoint))
        written.append(root / rel)
    return written


__all__ = ["FILES", "endpoint_name_for", "init_project"]
