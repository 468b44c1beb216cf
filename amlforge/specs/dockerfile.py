"""Dockerfiles of build contexts, read with dockerfile-parse: base images, pip installs, ports.

An environment with ``build: {path, dockerfile_path}`` is built by the service from that
context. amlforge reads the Dockerfile (statically; nothing is built) into what the rules
need, each with its location in the Dockerfile:
- ``FROM`` images, with ``ARG`` defaults substituted (build arguments are not known);
- the requirements of ``pip install`` in ``RUN`` lines, and of the requirements files those
  installs name (``-r requirements.txt``, looked up in the context), as a :class:`CondaFile`
  with only a pip section, so the pip rules read them as they read conda files;
- ``EXPOSE`` ports.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from pathlib import Path

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.specs.conda import CondaFile, _add_pip

#: pip options that take a value (the value is not a requirement).
_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
                  "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--trusted-host", "--platform",
                  "--python-version", "--implementation", "--abi", "--progress-bar", "--cache-dir", "--src",
                  "--upgrade-strategy", "-e", "--editable"}
_PIP = LazyPattern(r"(?:^|[\s;&|(])(?:python3?(?:\.\d+)?\s+-m\s+)?pip3?(?:\.\d+)?\s+install\s")


class BaseImage(Struct, frozen=True):
    """One ``FROM``: the image as written and with ``ARG`` defaults substituted."""

    raw: str
    image: str
    location: Location
    unresolved: bool = False  # it still holds a ${VAR} that no ARG default gives
    alias: str = ""  # the stage name given with AS


class Dockerfile(Struct):
    """What amlforge reads from one Dockerfile."""

    path: Path
    display: str
    images: list[BaseImage] = field(default_factory=list)
    pip: CondaFile = field(default_factory=lambda: CondaFile(Location("")))
    exposed: list[tuple[int, Location]] = field(default_factory=list)
    requirement_files: list[Path] = field(default_factory=list)
    #: ``pip install -r`` names a file that is not in the build context (its contents are unknown).
    missing_requirement_files: list[str] = field(default_factory=list)
    problem: str = ""
    problem_at: Location | None = None

    def external_images(self) -> list[BaseImage]:
        """``FROM`` images pulled from a registry: not an earlier stage, not ``scratch``, resolved."""
        stages: set[str] = set()
        out = []
        for base in self.images:
            if not base.unresolved and base.image.lower() not in stages and base.image.lower() != "scratch":
                out.append(base)
            if base.alias:
                stages.add(base.alias.lower())
        return out


def _column(lines: list[str], start: int, end: int, token: str, after: tuple[int, int]) -> Location | None:
    """1-based position of ``token`` in lines[start..end], at or after ``after`` (line index, col)."""
    for n in range(max(start, after[0]), min(end, len(lines) - 1) + 1):
        col = lines[n].find(token, after[1] if n == after[0] else 0)
        if col >= 0:
            return Location("", n + 1, col + 1)
    return None


def _substitute(value: str, args: dict[str, str]) -> tuple[str, bool]:
    unresolved = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unresolved
        name = m.group(1) or m.group(2)
        if name in args:
            return args[name]
        unresolved = True
        return m.group(0)

    return re.sub(r"\$\{(\w+)(?::-[^}]*)?\}|\$(\w+)", repl, value), unresolved


def parse_dockerfile(path: Path, display: str, text: str, context: Path | None = None) -> Dockerfile:
    """Parse Dockerfile ``text`` (``path`` names it; ``context`` is where ``-r`` files are looked up)."""
    from dockerfile_parse import DockerfileParser

    result = Dockerfile(path, display)
    result.pip = CondaFile(Location(display, 1, 1))
    lines = text.splitlines()
    try:
        structure = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False).structure
    except Exception as e:  # noqa: BLE001 - a third-party parser on user input: report, never crash
        result.problem = f"cannot parse the Dockerfile ({type(e).__name__})"
        result.problem_at = Location(display, 1, 1)
        return result
    args: dict[str, str] = {}
    for item in structure:
        instruction = item["instruction"].upper()
        value = item["value"]
        start, end = item["startline"], item["endline"]
        if instruction == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            args.setdefault(name.strip(), default.strip().strip('"').strip("'"))
        elif instruction == "FROM":
            words = [w for w in value.split() if not w.startswith("--platform")]
            if not words:
                continue
            raw = words[0]
            image, unresolved = _substitute(raw, args)
            pos = _column(lines, start, end, raw, (start, 0)) or Location("", start + 1, 1)
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            result.images.append(BaseImage(raw, image, Location(display, pos.line, pos.column), unresolved, alias))
        elif instruction == "EXPOSE":
            after = (start, 0)
            for word in value.split():
                port = word.split("/", 1)[0]
                pos = _column(lines, start, end, word, after)
                if pos is not None:
                    after = (pos.line - 1, pos.column)
                if port.isdigit():
                    result.exposed.append((int(port), Location(display, pos.line if pos else start + 1,
                                                                pos.column if pos else 1)))
        elif instruction == "RUN":
            _pip_installs(result, value, lines, start, end, context)
    return result


def _pip_installs(result: Dockerfile, value: str, lines: list[str], start: int, end: int, context: Path | None) -> None:
    after = (start, 0)
    for m in _PIP.finditer(value):
        command = re.split(r"&&|\|\||;|\|", value[m.end():], 1)[0]
        try:
            words = shlex.split(command, comments=False, posix=True)
        except ValueError:
            words = command.split()
        pending = ""  # the option whose value the next word is
        for word in words:
            if pending:
                if pending in ("-r", "--requirement"):
                    _add_requirement_file(result, context, word)
                pending = ""
                continue
            if word.startswith("-"):
                opt, eq, rest = word.partition("=")
                if opt in ("-r", "--requirement") and eq:
                    _add_requirement_file(result, context, rest)
                elif opt in _VALUE_OPTIONS and not eq:
                    pending = opt
                continue
            if word in (".", "..") or word.startswith(("./", "/", "$")) or word.endswith(".whl"):
                continue
            pos = _column(lines, start, end, word, after)
            if pos is not None:
                after = (pos.line - 1, pos.column)
            _add_pip(result.pip, word, Location(result.display, pos.line if pos else start + 1, pos.column if pos else 1))


def _add_requirement_file(result: Dockerfile, context: Path | None, name: str) -> None:
    found = _requirement_file(context, name) if context is not None else None
    if found is None:
        result.missing_requirement_files.append(name)
    elif found not in result.requirement_files:
        result.requirement_files.append(found)


def _requirement_file(context: Path, name: str) -> Path | None:
    """A requirements file a RUN line names, looked up in the build context (by path, then by name)."""
    for candidate in (context / name.lstrip("/"), context / Path(name).name):
        try:
            if os.path.isfile(candidate) and context.resolve() in candidate.resolve().parents:
                return candidate
        except OSError:
            continue
    return None


def read_requirements(path: Path, display: str, into: CondaFile, text: str) -> None:
    """Add the requirements of a requirements file to ``into`` (pip section), with their lines."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split(" #", 1)[0].strip()
        if not stripped or stripped.startswith("#"):
            continue
        _add_pip(into, stripped, Location(display, number, len(line) - len(line.lstrip()) + 1))


def load_dockerfile(path: Path, display: str, context: Path | None, read: callable) -> Dockerfile:
    """Read and parse a Dockerfile and the requirements files its pip installs name.

    ``read(path, display)`` returns a file's text (the run's reader, with its size limit and
    overlay); a file it cannot read is recorded as the Dockerfile's problem.
    """
    try:
        text = read(path, display)
    except UserInputError as e:
        result = Dockerfile(path, display, problem=e.message, problem_at=e.location or Location(display))
        return result
    result = parse_dockerfile(path, display, text, context)
    for req in result.requirement_files:
        from amlforge.specs.loader import display_path

        shown = display_path(req)
        try:
            read_requirements(req, shown, result.pip, read(req, shown))
        except UserInputError:
            continue
    return result


__all__ = ["BaseImage", "Dockerfile", "load_dockerfile", "parse_dockerfile", "read_requirements"]
