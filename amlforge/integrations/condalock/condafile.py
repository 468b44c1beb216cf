"""Reading and checking conda environment files (``conda.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from msgspec import Struct

from amlforge._regex import LazyPattern
from amlforge.errors import Location
from amlforge.integrations.condalock._common import YAML_LOADER
from amlforge.integrations.condalock.errors import CondaFileError

__all__ = ["CondaFile", "Requirement", "read_conda_file"]


class Requirement(Struct, frozen=True):
    """One requirement of a conda file.

    Attributes:
        spec: The requirement as written (``numpy<2``, ``requests==2.32.3``).
        name: Package name (conda name, or canonical PyPI name for pip).
        manager: ``"conda"`` or ``"pip"``.
        line: 1-based line in the conda file (0 if unknown).
        column: 1-based column of the requirement text (0 if unknown).
    """

    spec: str
    name: str
    manager: Literal["conda", "pip"]
    line: int = 0
    column: int = 0

    @property
    def where(self) -> str:
        """``line N`` for messages."""
        return f"line {self.line}" if self.line else "unknown line"


class CondaFile(Struct, frozen=True):
    """A parsed and checked conda environment file.

    Attributes:
        path: Absolute path.
        shown: The path as the user gave it (used in messages and locations).
        text: Raw content.
        data: Parsed YAML mapping.
        name: The ``name:`` value, if any.
        channels: ``channels:`` entries in order.
        channel_positions: 1-based ``(line, column)`` of each channel.
        requirements: Conda then pip requirements in file order.
    """

    path: Path
    shown: str
    text: str
    data: Mapping[str, Any]
    name: str | None
    channels: tuple[str, ...]
    channel_positions: tuple[tuple[int, int], ...]
    requirements: tuple[Requirement, ...]

    @property
    def conda_requirements(self) -> tuple[Requirement, ...]:
        """Requirements of the conda part."""
        return tuple(r for r in self.requirements if r.manager == "conda")

    @property
    def pip_requirements(self) -> tuple[Requirement, ...]:
        """Requirements of the ``pip:`` section."""
        return tuple(r for r in self.requirements if r.manager == "pip")

    def location(self, line: int = 0, column: int = 0) -> Location:
        """A :class:`Location` in this file."""
        return Location(self.shown, line, column)

    def requirement_location(self, req: Requirement | None) -> Location:
        """The location of a requirement (the file alone when ``req`` is None)."""
        return self.location(req.line, req.column) if req else self.location()

    def channel_location(self, channel: str) -> Location:
        """The location of a channel entry (the file alone if it is not in the file)."""
        for ch, (line, column) in zip(self.channels, self.channel_positions, strict=False):
            if ch == channel:
                return self.location(line, column)
        return self.location()


_CONDA_NAME = LazyPattern(r"^\s*(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
_PIP_NAME = LazyPattern(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")
_EGG = LazyPattern(r"#egg=([A-Za-z0-9][A-Za-z0-9._\-]*)")
SELECTOR_COMMENT = LazyPattern(r"#\s*\[[^\]]*\]")


def canonical_pip_name(name: str) -> str:
    """PEP 503 normalised PyPI name (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _conda_name(spec: str) -> str:
    m = _CONDA_NAME.match(spec)
    return m.group(1).lower() if m else spec.strip().lower()


def pip_requirement_name(spec: str) -> str:
    """Canonical package name of a pip requirement (``#egg=`` for VCS URLs)."""
    egg = _EGG.search(spec)
    if egg:
        return canonical_pip_name(egg.group(1))
    m = _PIP_NAME.match(spec)
    return canonical_pip_name(m.group(1)) if m else spec.strip().lower()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _column(node: yaml.Node) -> int:
    return node.start_mark.column + 1


def _mapping_get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _find_duplicate(
    requirements: list[Requirement], text: str
) -> tuple[Requirement, Requirement] | None:
    """The first package listed twice in the same section (outside platform selectors).

    conda merges repeated specs; conda-lock 4 keeps only the last one and silently drops
    the other constraint, so such a file cannot be locked faithfully.
    """
    lines = text.splitlines()
    seen: dict[tuple[str, str], Requirement] = {}
    for req in requirements:
        raw = lines[req.line - 1] if 0 < req.line <= len(lines) else ""
        if SELECTOR_COMMENT.search(raw):
            continue
        first = seen.setdefault((req.manager, req.name), req)
        if first is not req:
            return first, req
    return None


def read_conda_file(conda_file: Path) -> CondaFile:
    """Read and check a conda environment file.

    Args:
        conda_file: Path to the file.

    Returns:
        The parsed file.

    Raises:
        CondaFileError: The file is missing, is not valid YAML, or does not have the
            structure of a conda environment file.
    """
    path = Path(conda_file).resolve()
    shown = str(conda_file)
    if path.name.endswith((".lock.yaml", ".lock.yml", "conda-lock.yml")):
        raise CondaFileError(
            f"{path.name} is a lock file written by amlforge lock",
            Location(shown), "pass the conda file it was generated from",
        )
    from amlforge.errors import UserInputError
    from amlforge.specs.files import read_user_text
    from amlforge.specs.source import parse_yaml

    if not path.exists():
        raise CondaFileError("conda file not found", Location(shown))
    try:
        text = read_user_text(path, shown)
        data, _ = parse_yaml(text, shown)  # bounded: nesting, aliases, tags, number sizes
    except UserInputError as exc:
        raise CondaFileError(f"cannot read conda file: {exc.message}" if exc.location is None or not exc.location.line
                             else f"malformed conda file: {exc.message}", exc.location or Location(shown)) from None
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        loc = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        raise CondaFileError(f"malformed conda file: {problem}", loc) from None

    def bad(message: str, node: yaml.Node | None = None, hint: str = "") -> CondaFileError:
        loc = Location(shown, _line(node), _column(node)) if node is not None else Location(shown)
        return CondaFileError(f"malformed conda file: {message}", loc, hint)

    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise bad("expected a mapping with 'name', 'channels' and 'dependencies'", root)
    name = data.get("name")
    if name is not None and not isinstance(name, str | int | float):
        raise bad("'name' must be a string", _mapping_get(root, "name"))

    channels_node = _mapping_get(root, "channels")
    raw_channels = data.get("channels") or []
    if not isinstance(raw_channels, list) or not all(isinstance(c, str) for c in raw_channels):
        raise bad("'channels' must be a list of channel names or URLs", channels_node)
    positions = tuple((_line(n), _column(n)) for n in channels_node.value) \
        if isinstance(channels_node, yaml.SequenceNode) else ((0, 0),) * len(raw_channels)

    deps_node = _mapping_get(root, "dependencies")
    deps = data.get("dependencies")
    if deps_node is None:
        raise bad("no 'dependencies' list", root, "list the packages under 'dependencies:'")
    if not isinstance(deps, list) or not isinstance(deps_node, yaml.SequenceNode):
        raise bad("'dependencies' must be a list", deps_node)
    conda_reqs: list[Requirement] = []
    pip_reqs: list[tuple[str, yaml.Node]] = []
    for item, node in zip(deps, deps_node.value, strict=True):
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            spec = str(item).strip()
            if not spec:
                raise bad("empty dependency", node)
            if re.search(r"\s-\s", spec):
                raise bad(f"dependency {spec!r} looks like two entries joined into one", node,
                          "check the indentation of the next line")
            conda_reqs.append(
                Requirement(spec, _conda_name(spec), "conda", _line(node), _column(node)))
        elif isinstance(item, dict) and set(item) == {"pip"}:
            pip_node = _mapping_get(node, "pip")
            if item["pip"] is None:
                continue
            if not isinstance(item["pip"], list) or not isinstance(pip_node, yaml.SequenceNode):
                raise bad("'pip' must be a list of requirements", pip_node or node)
            for spec, pnode in zip(item["pip"], pip_node.value, strict=True):
                if not isinstance(spec, str) or not spec.strip():
                    raise bad("pip requirements must be strings", pnode)
                pip_reqs.append((spec.strip(), pnode))
        else:
            raise bad("a dependency must be a package spec or a 'pip:' list", node)

    requirements = list(conda_reqs)
    for spec, pnode in pip_reqs:
        if spec == "-e" or spec.startswith("-e "):
            continue  # conda-lock skips editable installs (with a warning)
        if spec.startswith("-"):
            option = spec.split()[0]
            raise bad(
                f"pip option {option!r} cannot be locked", pnode,
                "use a 'pip-repositories:' key for extra indexes" if "index" in option
                else "list the packages themselves in the 'pip:' section",
            )
        requirements.append(
            Requirement(spec, pip_requirement_name(spec), "pip", _line(pnode), _column(pnode)))
    duplicate = _find_duplicate(requirements, text)
    if duplicate:
        first, again = duplicate
        section = "the pip: section" if again.manager == "pip" else "dependencies"
        raise CondaFileError(
            f"{again.name} is listed twice in {section} (lines {first.line} and {again.line}); "
            "conda-lock would keep only the last requirement",
            Location(shown, again.line, again.column),
            "combine them into one requirement, e.g. 'numpy>=1.26,<2'",
        )
    if pip_reqs and not any(r.name == "python" for r in conda_reqs):
        raise bad("a 'pip:' section needs python among the conda dependencies", pip_reqs[0][1],
                  "add e.g. 'python=3.11' to 'dependencies'")
    return CondaFile(
        path=path, shown=shown, text=text, data=data,
        name=None if name is None else str(name),
        channels=tuple(raw_channels), channel_positions=positions,
        requirements=tuple(requirements),
    )
