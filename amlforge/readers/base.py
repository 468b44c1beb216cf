"""The reader contract and the table of readers by file name."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from msgspec import Struct, field

from amlforge.errors import Location

if TYPE_CHECKING:
    from amlforge.specs.edits import Fix
    from amlforge.specs.overlay import Overlay
    from amlforge.specs.project import Document


class LoadProblem(Struct, frozen=True):
    """Something the loader could not accept. ``code`` is the rule ID it is reported under."""

    code: str
    location: Location
    message: str
    hint: str = ""
    fatal: bool = False
    #: The exact edit that resolves it, when there is one (an unknown key's rename).
    fix: Fix | None = None


class LoadOptions(Struct):
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
        files: The files to load, already discovered (with whether each was named explicitly),
            as ``amlforge lint`` passes each project's share of a run
            (:mod:`amlforge.policies.settings`); ``paths`` are then not walked, and finding
            nothing to lint is the caller's to report.
    """

    root: Path | None = None
    overrides: Sequence[tuple[str, str]] = ()
    variables: dict[str, str] = field(default_factory=dict)
    profile: str = "dev"
    max_file_bytes: int = 5 * 1024 * 1024
    skip_unknown: bool = False
    overlay: Overlay | None = None
    #: ``--parameters FILE``: the ARM parameters file of the templates read (else each
    #: template's sibling ``<stem>.parameters.json``, else the parameters' defaults).
    parameters: Path | None = None
    files: Sequence[tuple[Path, bool]] | None = None


class Unknown(str):
    """A value that a reader cannot know without running something (an ARM ``reference()``,
    the result of a Python function call). Its text says why; the path it sits at is recorded
    in ``SourceMap.unknown`` as well, which is what the engine and loader consult."""

    __slots__ = ()

    def __new__(cls, why: str) -> Unknown:
        if isinstance(why, Unknown):
            return why
        return super().__new__(cls, f"<unknown: {why}>")


class ReadResult(Struct):
    """What a reader made of one source file.

    Attributes:
        documents: az-ml-shaped documents (zero, one or several per file).
        problems: located problems (unreadable input, malformed source, ...).
        skipped: why the file held nothing to lint, for verbose output (``None`` when it did).
        package_bases: environments that a model package spec of the file (``az ml model package
            --file``) builds on: packaging adds the inference server to them (AML403).
    """

    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: str | None = None
    package_bases: list[str] = field(default_factory=list)


class Reader(ABC):
    """One source form. Subclasses set ``name`` and ``suffixes`` and implement :meth:`read`."""

    #: Short name of the form, e.g. ``azml-yaml``, ``python``, ``arm``.
    name: ClassVar[str]
    #: Lower-case file name endings the reader claims (matched case-insensitively).
    suffixes: ClassVar[tuple[str, ...]]

    def claims(self, path: Path) -> bool:
        """Whether the reader reads files named like ``path``."""
        return path.name.lower().endswith(self.suffixes)

    @abstractmethod
    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        """Read one file.

        Args:
            path: Absolute path of the file.
            display: The path as shown to the user.
            explicit: The user named the file (rather than a folder holding it): a file that is
                not of this form is then a problem, not silently skipped.
            options: The load options of the run (variables, overlay, size limit, ...).
        """


#: Reader modules by the file endings they claim, in the order they are tried. A module
#: exposes its reader instance as ``READER``; it is imported when a file first needs it.
_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("amlforge.readers.azml_yaml", (".yml", ".yaml")),
    ("amlforge.readers.python_sdk", (".py",)),
    ("amlforge.readers.notebook", (".ipynb",)),
    ("amlforge.readers.arm", (".json",)),
    ("amlforge.readers.bicep", (".bicep",)),
    ("amlforge.readers.terraform", (".tf",)),
)
_DEFAULT = "amlforge.readers.azml_yaml"
_loaded: dict[str, Reader] = {}


def _reader(module: str) -> Reader:
    reader = _loaded.get(module)
    if reader is None:
        reader = _loaded[module] = importlib.import_module(module).READER
    return reader


def claimed(path: Path) -> bool:
    """Whether any reader reads files named like ``path`` (used when walking folders)."""
    name = path.name.lower()
    return any(name.endswith(suffixes) for _, suffixes in _TABLE)


def reader_for(path: Path) -> Reader:
    """The reader of ``path``; a file no reader claims is read as az-ml YAML (when named)."""
    name = path.name.lower()
    for module, suffixes in _TABLE:
        if name.endswith(suffixes):
            return _reader(module)
    return _reader(_DEFAULT)


def reader_names() -> list[str]:
    """Names of every reader, in table order (imports them)."""
    return [_reader(module).name for module, _ in _TABLE]


__all__ = ["LoadOptions", "LoadProblem", "ReadResult", "Reader", "Unknown", "claimed", "reader_for", "reader_names"]
