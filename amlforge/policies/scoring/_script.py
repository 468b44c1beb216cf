"""Find and parse each deployment's scoring script once per run (static: never executed).

``scripts(project)`` pairs every deployment that has a local ``code_configuration`` with a
:class:`ScoringScript`: where the entry script should be, whether it exists inside the code
folder, and its parsed ``ast`` (or the ``SyntaxError``). Parsing is memoised per file, so
1,000 deployments that share ``./src/score.py`` parse it once.
"""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from pathlib import Path

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.specs.deployment import OnlineDeploymentBase
from amlforge.specs.project import Loaded, LocalPath, Project, is_local_path

#: Largest scoring script amlforge parses (bytes); larger files are skipped, not guessed at.
MAX_SCRIPT_BYTES = 2_000_000


class ParsedScript(Struct, frozen=True):
    """One parsed file: the tree, or why there is none."""

    path: Path
    display: str
    tree: ast.Module | None = None
    error: SyntaxError | None = None
    unreadable: str = ""
    lines: tuple[bytes, ...] = ()
    #: The language of a script that is not Python (by its extension: "R", "Julia", ...); not parsed.
    language: str = ""

    def location(self, node: ast.AST | None = None) -> Location:
        """Where ``node`` is in the script (line 1 without a node); columns count characters."""
        if node is None:
            return Location(self.display, 1, 1)
        line = getattr(node, "lineno", 1)
        offset = getattr(node, "col_offset", 0)  # a UTF-8 byte offset
        if 0 < line <= len(self.lines) and offset:
            offset = len(self.lines[line - 1][:offset].decode("utf-8", errors="replace"))
        return Location(self.display, line, offset + 1)


class ScoringScript(Struct, eq=False):
    """The entry script of one deployment.

    Attributes:
        deployment: The deployment that names it.
        code: The resolved code folder.
        raw: ``scoring_script`` as written.
        path: The script's path (code folder + scoring_script, normalised).
        inside: Whether ``path`` stays inside the code folder (only the folder is uploaded).
        exists: Whether it is a file.
        parsed: The parse result, when the file exists.
    """

    deployment: Loaded[OnlineDeploymentBase]
    code: LocalPath
    raw: str
    path: Path
    inside: bool
    exists: bool
    parsed: ParsedScript | None = None
    extra: dict = field(default_factory=dict)

    @property
    def tree(self) -> ast.Module | None:
        return self.parsed.tree if self.parsed else None


def display_path(path: Path) -> str:
    from amlforge.specs.loader import display_path as _display

    return _display(path)


@lru_cache(maxsize=64)
def _parse_source(data: bytes) -> ast.Module:
    """Parse once per distinct source in a process (``amlforge generate`` checks many projects
    whose score.py files are copies). Bytes, so that a PEP 263 coding line is honoured as Python
    does. The tree is shared and read-only."""
    return ast.parse(data)


#: Extensions of scoring scripts in other languages (custom containers run them with their own server).
_LANGUAGES = {".r": "R", ".jl": "Julia", ".js": "JavaScript", ".ts": "TypeScript", ".java": "Java",
              ".scala": "Scala", ".cs": "C#", ".go": "Go", ".rb": "Ruby", ".sh": "shell", ".ps1": "PowerShell"}


def language_of(path: Path) -> str:
    """The language of a scoring script that is not Python, by its extension ("" for Python)."""
    return _LANGUAGES.get(path.suffix.lower(), "")


def _parse(path: Path, in_memory: str | None = None) -> ParsedScript:
    display = display_path(path)
    language = language_of(path)
    if language:
        return ParsedScript(path, display, language=language)
    from amlforge.specs.files import read_user_bytes

    try:
        if in_memory is not None:  # the run's overlay holds it (an editor's unsaved text)
            data = in_memory.encode("utf-8")
            if len(data) > MAX_SCRIPT_BYTES:
                return ParsedScript(path, display, unreadable=f"larger than {MAX_SCRIPT_BYTES} bytes")
        else:
            data = read_user_bytes(path, display, MAX_SCRIPT_BYTES, what="scoring scripts")
    except UserInputError as e:
        return ParsedScript(path, display, unreadable=e.message)
    try:
        tree = _parse_source(data)
    except SyntaxError as e:
        e.filename = display
        # the parser reports some errors (a bad coding declaration) at column -1 or line 0
        e.lineno, e.offset = max(e.lineno or 1, 1), max(e.offset or 1, 1)
        return ParsedScript(path, display, error=e)
    except ValueError as e:  # null bytes (a SyntaxError from Python 3.12 on)
        err = SyntaxError(str(e))
        err.lineno, err.offset = 1, 1
        return ParsedScript(path, display, error=err)
    except (MemoryError, RecursionError):  # the parser gives up on very deep nesting this way
        err = SyntaxError("too deeply nested for Python's parser")
        err.lineno, err.offset = 1, 1
        return ParsedScript(path, display, error=err)
    return ParsedScript(path, display, tree=tree, lines=tuple(data.splitlines()))


def parsed(project: Project, path: Path) -> ParsedScript:
    """The parse of ``path``, computed once per run."""
    return project.memo(("scoring.parse", str(path)), lambda: _parse(path, project.read_overlay(path)))


def _locate(project: Project, dep: Loaded[OnlineDeploymentBase]) -> ScoringScript | None:
    code_cfg = dep.spec.code_configuration
    if code_cfg is None or not code_cfg.code or not code_cfg.scoring_script or not is_local_path(code_cfg.code):
        return None
    code = project.local_path(dep, code_cfg.code)
    if not code.exists or not code.is_dir:
        return None  # AML106 reports a missing code folder
    raw = code_cfg.scoring_script

    def where() -> tuple[Path, bool, bool]:
        path = Path(os.path.normpath(code.path / raw))
        inside = path == code.path or code.path in path.parents
        return path, inside, os.path.isfile(path)  # False, not an error, for a name too long

    path, inside, exists = project.memo(("scoring.where", str(code.path), raw), where)
    script = ScoringScript(dep, code, raw, path, inside, exists)
    if inside and exists:
        script.parsed = parsed(project, path)
    return script


def scripts(project: Project) -> list[ScoringScript]:
    """Every deployment's scoring script (deployments without local code are left out)."""

    def build() -> list[ScoringScript]:
        out = []
        for dep in project.deployments:
            found = _locate(project, dep)
            if found is not None:
                out.append(found)
        return out

    return project.memo(("scoring.scripts",), build)


def parsed_scripts(project: Project) -> list[ScoringScript]:
    """Scripts that exist inside their code folder and parse."""
    return [s for s in scripts(project) if s.tree is not None]


def code_modules(project: Project, code_dir: Path, limit: int = 5000) -> frozenset[str]:
    """Names importable from the code folder: ``.py`` files, extension modules and folders.

    The inference server puts the app root and the code folder on ``sys.path``; scripts also
    add sub-folders themselves, so every module anywhere in the folder counts (walk capped at
    ``limit`` entries).
    """

    def build() -> frozenset[str]:
        names: set[str] = set()
        seen = 0
        for _dirpath, dirnames, filenames in os.walk(code_dir):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
            for d in dirnames:
                names.add(d)
            for f in filenames:
                stem, ext = os.path.splitext(f)
                if ext in (".py", ".pyc", ".so", ".pyd", ".pyi"):
                    names.add(stem.split(".", 1)[0])
            seen += len(dirnames) + len(filenames)
            if seen > limit:
                break
        return frozenset(names)

    return project.memo(("scoring.code_modules", str(code_dir)), build)


def top_level_defs(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound at module level (functions, classes, assignments, imports), first binding wins.

    Bindings inside top-level ``if``/``try``/``with`` blocks count: the server only checks that
    the module has the attribute after import.
    """
    out: dict[str, ast.AST] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.setdefault(node.name, node)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            out.setdefault(name.id, node)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
                out.setdefault(node.target.id, node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*":
                        out.setdefault("*", node)
                    else:
                        out.setdefault(alias.asname or alias.name.split(".")[0], node)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                visit(node.body)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    visit(handler.body)
                visit(node.orelse)  # type: ignore[attr-defined]
                visit(node.finalbody)  # type: ignore[attr-defined]
            elif isinstance(node, (ast.With, ast.For, ast.While)):
                visit(node.body)

    visit(tree.body)
    return out


__all__ = [
    "MAX_SCRIPT_BYTES",
    "ParsedScript",
    "ScoringScript",
    "code_modules",
    "display_path",
    "parsed",
    "parsed_scripts",
    "scripts",
    "top_level_defs",
]
