"""Conda environment files (``conda_file``): dependencies with their pins and source lines.

A conda file lists conda match specs (``numpy=1.26.4``, ``python>=3.10``, ``conda-forge::pip``)
and a ``pip:`` section of PEP 508 requirements (``scikit-learn==1.5.2``). Rules need each
dependency's name, how tightly it is pinned, and the line it is on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge._records import EqualByKey
from amlforge.errors import Location
from amlforge.specs.source import SourceMap

_CONDA_SPEC = LazyPattern(
    r"^\s*(?:(?P<channel>[A-Za-z0-9_./:-]+)::)?(?P<name>[A-Za-z0-9_.\-]+)"
    r"\s*(?P<rest>.*?)\s*$"
)


class Dependency(EqualByKey, Struct, frozen=True):
    """One conda or pip dependency.

    Attributes:
        name: Normalised name (lower case, ``_`` -> ``-``).
        raw: The text as written.
        source: ``conda`` or ``pip``.
        version: The exact version when pinned exactly (``=1.2.3``, ``==1.2.3``), else None.
        spec: The version constraint as written after the name ('' when none).
        location: Where it is written.
        end: Where its text ends (just after it), when the source map could tell and the text
            there is the one-line scalar read; fixes replace the text from ``location`` to it.
        quote: The quote character the scalar is written with ('' when plain).
    """

    name: str
    raw: str
    source: str
    version: str | None
    spec: str
    location: Location
    end: tuple[int, int] | None = None
    quote: str = ""

    def _key(self) -> tuple:
        """What the dependency is: where its text ends and how it is quoted do not count."""
        return (self.name, self.raw, self.source, self.version, self.spec, self.location)

    @property
    def pinned(self) -> bool:
        """Exactly one version (wildcards such as ``=1.2`` / ``1.2.*`` do not count)."""
        return self.version is not None


class CondaFile(Struct):
    """A parsed conda environment file (or inline ``conda_file`` mapping)."""

    location: Location
    name: str | None = None
    channels: list[str] = field(default_factory=list)
    conda: list[Dependency] = field(default_factory=list)
    pip: list[Dependency] = field(default_factory=list)
    pip_options: list[str] = field(default_factory=list)
    problems: list[tuple[Location, str]] = field(default_factory=list)

    @property
    def dependencies(self) -> list[Dependency]:
        return self.conda + self.pip

    def find(self, name: str) -> list[Dependency]:
        """Dependencies called ``name`` (normalised), conda first."""
        key = normalise(name)
        return [d for d in self.dependencies if d.name == key]

    @property
    def python(self) -> Dependency | None:
        found = [d for d in self.conda if d.name == "python"]
        return found[0] if found else None


def normalise(name: str) -> str:
    """PEP 503-style name: lower case, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _conda_exact(rest: str) -> str | None:
    rest = rest.strip()
    m = re.fullmatch(r"==?\s*([A-Za-z0-9_.+!]+)(?:=[A-Za-z0-9_.+*]+)?", rest)
    if m and "*" not in m.group(1):
        version = m.group(1)
        # a single '=' means "this version prefix" in conda (=1.2 matches 1.2.x): only a full
        # version with at least three parts, or '==', is an exact pin
        if rest.startswith("==") or version.count(".") >= 2:
            return version
        return None
    m = re.fullmatch(r"([0-9][A-Za-z0-9_.+!]*)(?:\s+\S+)?", rest)  # "numpy 1.26.4 py311h..."
    if m and "*" not in m.group(1) and m.group(1).count(".") >= 2:
        return m.group(1)
    return None


def _pip_exact(spec: str) -> str | None:
    m = re.fullmatch(r"\s*===?\s*([A-Za-z0-9_.+!-]+)\s*", spec)
    if m and "*" not in m.group(1):
        return m.group(1)
    return None


def parse_conda(data: Any, smap: SourceMap, prefix: tuple = ()) -> CondaFile:
    """Build a :class:`CondaFile` from parsed YAML data and its source map.

    Malformed entries are recorded in ``problems`` rather than raised.
    """
    conda = CondaFile(smap.locate(prefix))
    if not isinstance(data, dict):
        conda.problems.append((smap.locate(prefix), "a conda file is a mapping with 'dependencies'"))
        return conda
    conda.name = data.get("name") if isinstance(data.get("name"), str) else None
    channels = data.get("channels") or []
    if isinstance(channels, list):
        conda.channels = [str(c) for c in channels]
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        conda.problems.append((smap.locate(prefix + ("dependencies",)), "'dependencies' should be a list"))
        return conda
    for i, item in enumerate(deps):
        where = smap.locate(prefix + ("dependencies", i))
        if isinstance(item, dict) and "pip" in item:
            pips = item["pip"] or []
            if not isinstance(pips, list):
                conda.problems.append((where, "'pip' should be a list of requirements"))
                continue
            for j, req in enumerate(pips):
                path = prefix + ("dependencies", i, "pip", j)
                _add_pip(conda, str(req), smap.locate(path), *_span(smap, path, req))
            continue
        if not isinstance(item, (str, int, float)):
            conda.problems.append((where, "a dependency should be a string such as 'numpy=1.26.4'"))
            continue
        text = str(item)
        m = _CONDA_SPEC.match(text)
        if not m:
            conda.problems.append((where, f"cannot read dependency '{text}'"))
            continue
        rest = m.group("rest")
        conda.conda.append(Dependency(normalise(m.group("name")), text, "conda", _conda_exact(rest), rest.strip(), where,
                                      *_span(smap, prefix + ("dependencies", i), item)))
    return conda


def _span(smap: SourceMap, path: tuple, item: Any) -> tuple[tuple[int, int] | None, str]:
    """(end, quote) of a one-line scalar dependency, or (None, '') when a fix cannot edit it."""
    from amlforge.specs.edits import scalar_matches, span_text, value_span

    where = value_span(smap, path)
    if where is None:
        return None, ""
    old = span_text(smap.lines, *where)
    if old is None or not scalar_matches(old, item):
        return None, ""
    return (where[2], where[3]), old[0] if old[:1] in ("'", '"') else ""


def _add_pip(conda: CondaFile, text: str, where: Location, end: tuple[int, int] | None = None,
             quote: str = "") -> None:
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return
    if stripped.startswith("-"):
        conda.pip_options.append(stripped)  # --extra-index-url, -r file, -e path
        return
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(stripped)
    except InvalidRequirement:
        # URLs and paths (git+https://..., ./wheel.whl) are not version pins
        name = stripped if "://" in stripped or "/" in stripped else re.split(r"[\s@<>=!~;\[]", stripped, 1)[0]
        conda.pip.append(Dependency(name if name == stripped else normalise(name), stripped, "pip", None, "", where,
                                    end, quote))
        return
    spec = str(req.specifier)
    exact = _pip_exact(spec) if req.url is None else None
    conda.pip.append(Dependency(normalise(req.name), stripped, "pip", exact, spec, where, end, quote))


def load_conda_file(path: Path, display: str, text: str | None = None) -> tuple[CondaFile | None, Location | None, str]:
    """Read (unless ``text`` is given) and parse a conda file; on failure return (None, location, message)."""
    from amlforge.errors import UserInputError
    from amlforge.specs.source import parse_yaml, read_text

    try:
        data, smap = parse_yaml(read_text(path, display) if text is None else text, display)
    except UserInputError as e:
        return None, e.location, e.message
    return parse_conda(data, smap), None, ""


__all__ = ["CondaFile", "Dependency", "load_conda_file", "normalise", "parse_conda"]
