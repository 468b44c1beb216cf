"""Which configuration and project root apply to each file, as ruff does it.

- **Configuration**: the nearest ``.amlforge.toml`` or ``pyproject.toml`` with a
  ``[tool.amlforge]`` table, searched from the file's folder upwards (a ``pyproject.toml``
  without the table is passed over). It does not merge with configurations further up unless
  it says ``extend = "../.amlforge.toml"``. ``--config FILE`` applies one file to every path.
- **Project root**: the nearest folder with ``.git``, ``pyproject.toml``, ``.amlforge.toml`` or
  ``amlforge.yaml``; ``--root`` applies one root to every path. A configuration file marks a
  root, so a file's root is never above the folder of its configuration.
- **Exclusion**: gitignore-like globs. ``exclude`` replaces :data:`DEFAULT_EXCLUDE` (ruff's
  list: it names tool folders, not every dot-folder, as ``.github/`` and ``.azure/`` hold az-ml
  files), ``extend-exclude`` adds to it (both relative to the folder of the file that sets them)
  and ``--exclude`` adds patterns relative to the working directory. They apply to what a walk of
  a folder finds; files named on the command line are linted anyway unless ``--force-exclude``
  (pre-commit passes every changed file). Output of ``amlforge generate`` (the files listed in a
  ``.amlforge-generated.json``) is left out when its spec is part of the same run: it is linted
  at the lines of its ``amlforge.yaml``. Without its spec it is linted as it is.

Files are grouped by (root, configuration): each group is one :class:`~amlforge.specs.project.Project`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.specs.files import DEFAULT_EXCLUDE

if TYPE_CHECKING:
    from amlforge.specs.overlay import Overlay

CONFIG_FILES = (".amlforge.toml", "pyproject.toml")
ROOT_MARKERS = (".git", "pyproject.toml", ".amlforge.toml", "amlforge.yaml", "amlforge.yml")
GENERATED_MANIFEST = ".amlforge-generated.json"


def _toml() -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def display(path: Path | str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict.

    Raises:
        UserInputError: unreadable or invalid TOML (with the line and column tomllib names).
    """
    from amlforge.specs.files import read_user_text

    tomllib = _toml()
    text = read_user_text(path, display(path))  # size limit, special files, encodings: one user error each
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise UserInputError("invalid TOML: nested too deeply", Location(display(path)), "fix the TOML syntax") from None
    except tomllib.TOMLDecodeError as e:
        # the file alone as the location (tomllib's message names the line and column): the
        # language server shows an error without a line on the document being linted
        raise UserInputError(f"invalid TOML: {e}", Location(display(path)), "fix the TOML syntax") from None


def amlforge_table(path: Path) -> dict[str, Any] | None:
    """The amlforge table of a configuration file (keys with ``-`` spelled ``_``), or None when a
    ``pyproject.toml`` has none. A ``.amlforge.toml`` holds it as ``[tool.amlforge]`` or at the top."""
    data = read_toml(path)
    tool = data.get("tool", {})
    table = tool.get("amlforge") if isinstance(tool, dict) else None
    if table is None and path.name != "pyproject.toml":
        table = {k: v for k, v in data.items() if k != "tool"}
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UserInputError("[tool.amlforge] should be a table", Location(display(path)), "write [tool.amlforge]")
    return {str(k).replace("-", "_"): v for k, v in table.items()}


class ConfigFile(Struct):
    """A configuration as it applies: the merged table and, for each key, the file it came from.

    Attributes:
        path: The nearest configuration file (absolute); None when there is none.
        table: The ``[tool.amlforge]`` keys, after ``extend``.
        sources: Key -> the file (absolute) that set it.
    """

    path: Path | None
    table: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return display(self.path) if self.path else ""

    def folder_of(self, key: str) -> Path:
        """The folder that relative paths of ``key`` are taken from: that of the file that set it."""
        src = self.sources.get(key) or self.path
        return src.parent if src else Path.cwd()


def load_config_file(path: Path, _chain: tuple[Path, ...] = ()) -> ConfigFile:
    """Read one configuration file, following ``extend`` (a path relative to it).

    Raises:
        UserInputError: a missing, unreadable or cyclic configuration.
    """
    path = Path(os.path.abspath(path))
    if path in _chain:
        raise UserInputError("configuration 'extend' chain comes back to this file", Location(display(path)),
                             "remove one of the 'extend' keys")
    if not path.is_file():
        where = Location(display(_chain[-1])) if _chain else Location(display(path))
        raise UserInputError(f"configuration file not found: {display(path)}", where, "check the path")
    table = amlforge_table(path)
    if table is None:
        raise UserInputError("no [tool.amlforge] table in this pyproject.toml", Location(display(path)),
                             "add [tool.amlforge], or pass the configuration file that has it")
    out = ConfigFile(path)
    parent = table.get("extend")
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise UserInputError("'extend' should be the path of another configuration file", Location(display(path)),
                                 'write extend = "../.amlforge.toml"')
        base = load_config_file(path.parent / parent, (*_chain, path))
        out.table.update(base.table)
        out.sources.update(base.sources)
    for key, value in table.items():
        if key == "extend":
            continue
        out.table[key] = value
        out.sources[key] = path
    return out


class Resolver:
    """Finds, with caches per folder, the configuration and root of each file, and what to exclude.

    Args:
        config_file: ``--config``: one configuration for every file.
        root: ``--root``: one project root for every file.
        exclude: ``--exclude`` patterns (relative to the working directory).
        force_exclude: Apply the exclusions to files named explicitly, too.
    """

    def __init__(self, *, config_file: Path | None = None, root: Path | None = None,
                 exclude: Sequence[str] = (), force_exclude: bool = False) -> None:
        self.fixed_config = load_config_file(config_file) if config_file is not None else None
        self.fixed_root = Path(os.path.abspath(root)) if root is not None else None
        self.cli_exclude = [p for p in exclude if p.strip()]
        self.force_exclude = force_exclude
        self._configs: dict[Path, ConfigFile] = {}
        self._roots: dict[Path, Path] = {}
        self._patterns: dict[Path | None, list[_Pattern]] = {}
        self._manifests: dict[Path, tuple[Path | None, frozenset[str]]] = {}
        self._cwd = Path.cwd()
        #: The folders named on the command line (a named file's folder): without a root marker,
        #: the outermost one that holds a file is its project (see :meth:`root_for`).
        self._anchors: list[Path] = []

    # -- configuration and root ------------------------------------------------------------

    def config_for(self, folder: Path) -> ConfigFile:
        """The configuration that applies to files in ``folder`` (absolute)."""
        if self.fixed_config is not None:
            return self.fixed_config
        visited = []
        found: ConfigFile | None = None
        for candidate in (folder, *folder.parents):
            if candidate in self._configs:
                found = self._configs[candidate]
                break
            visited.append(candidate)
            for name in CONFIG_FILES:
                path = candidate / name
                if path.is_file() and (name != "pyproject.toml" or amlforge_table(path) is not None):
                    found = load_config_file(path)
                    break
            if found is not None:
                break
        found = found or ConfigFile(None)
        for v in visited:
            self._configs[v] = found
        return found

    def root_for(self, folder: Path) -> Path:
        """The project root of files in ``folder`` (absolute): the nearest folder with a root
        marker; without one, the working directory when the files are below it, else the
        outermost folder named on the command line that holds them (so that a named folder's
        ``environment/`` and ``deploy/`` files are one project), else ``folder`` itself."""
        if self.fixed_root is not None:
            return self.fixed_root
        if folder not in self._roots:
            root = None
            for candidate in (folder, *folder.parents):
                if any((candidate / m).exists() for m in ROOT_MARKERS):
                    root = candidate
                    break
            if root is None and (folder == self._cwd or self._cwd in folder.parents):
                root = self._cwd
            if root is None:
                holding = [a for a in self._anchors if a == folder or a in folder.parents]
                root = min(holding, key=lambda a: len(a.parts)) if holding else folder
            self._roots[folder] = root
        return self._roots[folder]

    # -- exclusion ------------------------------------------------------------------------------

    def patterns_for(self, folder: Path) -> list[_Pattern]:
        """The exclusion patterns that apply in ``folder``: its configuration's plus ``--exclude``."""
        cfg = self.config_for(folder)
        if cfg.path not in self._patterns:
            out: list[_Pattern] = []
            table = cfg.table
            base = table.get("exclude", list(DEFAULT_EXCLUDE))
            for key, value in (("exclude", base), ("extend_exclude", table.get("extend_exclude", []))):
                where = Location(display(cfg.sources[key])) if key in cfg.sources else Location("(defaults)")
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise UserInputError(f"'{key.replace('_', '-')}' should be a list of glob patterns", where,
                                         f'write {key.replace("_", "-")} = ["build/", "**/*.generated.yml"]')
                anchor = cfg.folder_of(key) if key in cfg.sources else (cfg.path.parent if cfg.path else self._cwd)
                out.extend(_Pattern.parse(v, anchor) for v in value if v.strip())
            out.extend(_Pattern.parse(v, self._cwd) for v in self.cli_exclude)
            self._patterns[cfg.path] = out
        return self._patterns[cfg.path]

    def excluded(self, path: Path, is_dir: bool) -> bool:
        """Whether ``path`` (absolute) matches a pattern of its folder's configuration or ``--exclude``."""
        folder = path if is_dir else path.parent
        return any(p.matches(path, is_dir) for p in self.patterns_for(folder))

    def _manifest(self, folder: Path) -> tuple[Path | None, frozenset[str]]:
        if folder not in self._manifests:
            from amlforge.specs.loader import read_generated_manifest

            spec, files = read_generated_manifest(folder) if (folder / GENERATED_MANIFEST).is_file() else (None, [])
            self._manifests[folder] = (spec, frozenset(files))
        return self._manifests[folder]

    def generated_from(self, path: Path) -> Path | None:
        """The spec (absolute) that generated ``path``, when a ``.amlforge-generated.json`` in a
        folder above it lists the file; None otherwise."""
        for depth, folder in enumerate(path.parents):
            if depth > 4:
                break
            spec, files = self._manifest(folder)
            if files and path.relative_to(folder).as_posix() in files:
                return spec
        return None

    def drop_generated(self, found: list[tuple[Path, bool]]) -> list[tuple[Path, bool]]:
        """Leave out output of ``amlforge generate`` whose spec is part of the run (it is linted at
        the spec's lines): always for files a walk found, for named files with ``--force-exclude``."""
        absolute = {Path(os.path.abspath(p)) for p, _ in found}
        keep = []
        for path, explicit in found:
            if not explicit or self.force_exclude:
                spec = self.generated_from(Path(os.path.abspath(path)))
                if spec is not None and spec in absolute:
                    continue
            keep.append((path, explicit))
        return keep

    # -- discovery ------------------------------------------------------------------------------

    def files(self, paths: Sequence[Path], overlay: Overlay | None = None) -> list[tuple[Path, bool]]:
        """What a run reads for ``paths``: :meth:`discover` without the generated output whose
        spec is part of the run (:meth:`drop_generated`). Lint, review, quota and lock use it."""
        return self.drop_generated(list(self.discover(paths, overlay)))

    def discover(self, paths: Sequence[Path], overlay: Overlay | None = None) -> Iterator[tuple[Path, bool]]:
        """Files a reader claims under ``paths`` (sorted within each folder) with whether each was
        named explicitly; excluded folders are not entered. With an ``overlay`` (the editor's
        documents, the text ``--fix`` produced, standard input), its files count as on disk: an
        unsaved new file below a walked folder is found unless excluded, a named one exists.

        Raises:
            UserInputError: a path does not exist.
        """
        from amlforge.readers.base import claimed
        from amlforge.specs.files import path_problem

        for given in paths:
            problem = path_problem(given)
            if problem is not None:
                raise UserInputError(problem, Location(str(given), 1, 1),
                                     "shorten the path: a file name may have at most 255 bytes")
            absolute = Path(os.path.abspath(given))
            named_folder = os.path.isdir(absolute) or overlay is not None and overlay.is_dir(absolute)
            self._anchors.append(absolute if named_folder else absolute.parent)
            self._roots.clear()  # roots found before this anchor was known may change
            if os.path.isdir(absolute):
                found = []
                for dirpath, dirnames, filenames in os.walk(absolute):
                    here = Path(dirpath)
                    dirnames[:] = sorted(d for d in dirnames if not self.excluded(here / d, True))
                    # amlforge's own record of generated files is no input (the ARM reader claims .json)
                    found.extend(here / f for f in filenames if f != GENERATED_MANIFEST and claimed(here / f)
                                 and not self.excluded(here / f, False))
                if overlay is not None:
                    on_disk = set(found)
                    found.extend(p for p in overlay.files_under(absolute) if p not in on_disk and claimed(p)
                                 and not self._walk_excludes(p, absolute))
                for path in sorted(found):
                    yield _shown(given, absolute, path), False
            elif os.path.exists(absolute):  # False, not an error, for any OSError
                if self.force_exclude and self._excluded_explicit(absolute):
                    continue
                yield given, True
            elif overlay is not None and overlay.exists(absolute):  # in memory only
                if self.force_exclude and self._excluded_explicit(absolute):
                    continue
                yield given, True
            elif given.is_symlink():
                from amlforge.specs.loader import _broken_link

                raise _broken_link(given)
            else:
                raise UserInputError("no such file or directory", Location(str(given)), "check the path")

    def _walk_excludes(self, path: Path, top: Path) -> bool:
        """Whether a walk of ``top`` leaves out ``path``: a folder between them, or the file, is excluded."""
        folder = top
        for part in path.relative_to(top).parts[:-1]:
            folder = folder / part
            if self.excluded(folder, True):
                return True
        return self.excluded(path, False)

    def _excluded_explicit(self, path: Path) -> bool:
        """``--force-exclude``: a named file whose own name or any folder above it is excluded."""
        patterns = self.patterns_for(path.parent)
        chain = [path, *path.parents]
        for i, p in enumerate(chain):
            if p == p.parent:
                break
            if any(pat.matches(p, i > 0) for pat in patterns):
                return True
        return False

    def group(self, found: Iterable[tuple[Path, bool]]) -> dict[tuple[Path, Path | None], list[tuple[Path, bool]]]:
        """Files by (project root, configuration file), in the order of the roots."""
        groups: dict[tuple[Path, Path | None], list[tuple[Path, bool]]] = {}
        for path, explicit in found:
            folder = Path(os.path.abspath(path)).parent
            key = (self.root_for(folder), self.config_for(folder).path)
            groups.setdefault(key, []).append((path, explicit))
        return dict(sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1] or ""))))


def project_channels(path: Path) -> list[str]:
    """The ``channels`` of the configuration nearest to ``path`` (a file or folder): the conda
    channels or mirror a project locks with (``amlforge lock``, and the lock checks of ``lint``
    and ``generate``); empty when the configuration has none.

    Raises:
        UserInputError: an invalid configuration or ``channels`` value.
    """
    from amlforge.policies.config import _channels

    absolute = Path(os.path.abspath(path))
    cfg = Resolver().config_for(absolute if absolute.is_dir() else absolute.parent)
    where = Location(display(cfg.sources["channels"])) if "channels" in cfg.sources else Location("configuration")
    return _channels(cfg.table.get("channels", []), where)


def describe(path: Path, *, root: Path | None = None, config_file: Path | None = None,
             select: Sequence[str] = (), ignore: Sequence[str] = (), fail_on: str | None = None,
             profile: str | None = None, quota: Path | None = None, baseline: Path | None = None,
             policies: Sequence[str] = (), exclude: Sequence[str] = ()) -> str:
    """``amlforge lint --show-settings PATH``: the root and configuration that apply to ``path``,
    each value with where it came from (a file, the command line or the default), validated as
    a lint run would.

    Raises:
        UserInputError: ``path`` does not exist, or the configuration is invalid.
    """
    import json

    from amlforge.policies.config import build_config, validate
    from amlforge.policies.engine import run_registry

    absolute = Path(os.path.abspath(path))
    if not absolute.exists():
        raise UserInputError("no such file or directory", Location(str(path)), "check the path")
    resolver = Resolver(config_file=config_file, root=root, exclude=exclude)
    folder = absolute if absolute.is_dir() else absolute.parent
    cfg = resolver.config_for(folder)
    project_root = resolver.root_for(folder)
    config = build_config(cfg.table, cfg.display, select=list(select), ignore=list(ignore), fail_on=fail_on,
                          profile=profile, quota=quota, baseline=baseline, base_dir=cfg.path.parent if cfg.path
                          else project_root, policies=list(policies), folders={k: cfg.folder_of(k) for k in cfg.sources})
    validate(config, run_registry(config, skip=("review",)))
    cli = {"select": select, "ignore": ignore, "fail_on": fail_on, "profile": profile, "quota": quota,
           "baseline": baseline, "policies": policies}
    lines = [f"file: {display(absolute)}"]
    if root is not None:
        lines.append(f"project root: {display(project_root)}  (--root)")
    else:
        marker = next((m for m in ROOT_MARKERS if (project_root / m).exists()), None)
        lines.append(f"project root: {display(project_root)}  "
                     + (f"(nearest folder with {marker})" if marker else "(no marker found: the working directory)"
                        if project_root == resolver._cwd else "(no marker found: the folder named)"))
    if config_file is not None:
        lines.append(f"configuration: {cfg.display}  (--config)")
    else:
        lines.append(f"configuration: {cfg.display or '(none: defaults)'}")
    if cfg.path is not None:
        chain = sorted({display(p) for p in cfg.sources.values()} - {cfg.display})
        if chain:
            lines.append(f"extends: {', '.join(chain)}")
    values: dict[str, Any] = {
        "select": config.select or ["AML"], "ignore": config.ignore, "fail_on": config.fail_on.value,
        "profile": config.profile, "quota": display(config.quota_file) if config.quota_file else None,
        "baseline": display(config.baseline.path) if config.baseline else None,
        "knowledge": display(config.knowledge_file) if getattr(config, "knowledge_file", None) else None,
        "policies": [p if p.startswith("builtin:") else display(p) for p in config.policies],
        "channels": config.channels, "severity": {k: v.value for k, v in config.severity.items()},
        "options": config.options,
        "exclude": cfg.table.get("exclude", list(DEFAULT_EXCLUDE)),
        "extend-exclude": cfg.table.get("extend_exclude", []), "--exclude": list(exclude),
    }
    width = max(len(k) for k in values)
    for key, value in values.items():
        table_key = key.replace("-", "_")
        if key == "--exclude":
            if not value:
                continue
            origin = "command line"
        elif cli.get(key):
            origin = f"command line (--{key.replace('_', '-')})"
            if key in ("ignore", "policies") and table_key in cfg.sources:
                origin += f" + {display(cfg.sources[table_key])}"
        elif table_key in cfg.sources:
            origin = display(cfg.sources[table_key])
        else:
            origin = "default"
        shown = "(none)" if value is None else json.dumps(value)
        lines.append(f"{key.ljust(width)} = {shown}  # {origin}")
    if absolute.is_file():
        verdict = resolver._excluded_explicit(absolute)
        lines.append(f"excluded from folder walks: {'yes' if verdict else 'no'}")
        spec = resolver.generated_from(absolute)
        if spec is not None:
            lines.append(f"generated from: {display(spec)} (left out when that spec is linted in the same run)")
    return "\n".join(lines) + "\n"


def _shown(given: Path, absolute: Path, path: Path) -> Path:
    """A walked file as the user would write it: below the given path, as it was given."""
    return given / path.relative_to(absolute)


class _Pattern(Struct, frozen=True):
    """One gitignore-like pattern: without a ``/`` (but a trailing one) it matches a name at any
    depth; with one it is anchored at ``anchor``; ``**`` spans folders; a trailing ``/`` matches
    folders only; a leading ``!`` is not supported (it raises)."""

    text: str
    anchor: Path
    regex: re.Pattern[str]
    anchored: bool
    dir_only: bool

    @classmethod
    def parse(cls, text: str, anchor: Path) -> _Pattern:
        raw = text.strip()
        if raw.startswith("!"):
            raise UserInputError(f"exclude pattern '{raw}': negation is not supported", None,
                                 "list the folders to exclude instead")
        dir_only = raw.endswith("/")
        body = raw.rstrip("/") or "/"
        anchored = "/" in body
        body = body.lstrip("/")
        if body.startswith("./"):
            body = body[2:]
        return cls(raw, anchor, re.compile(_glob_regex(body)), anchored, dir_only)

    def matches(self, path: Path, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if not self.anchored:
            return bool(self.regex.match(path.name))
        try:
            rel = path.relative_to(self.anchor).as_posix()
        except ValueError:
            return False
        return bool(self.regex.match(rel))


def _glob_regex(glob: str) -> str:
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out += "(?:/.*)?"
            i += 3
        elif glob.startswith("**", i):
            out += ".*"
            i += 2
        elif glob[i] == "*":
            out += "[^/]*"
            i += 1
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        elif glob[i] == "[":
            j = glob.find("]", i + 1)
            if j == -1:
                out += re.escape("[")
                i += 1
            else:
                out += fnmatch.translate(glob[i:j + 1])[4:-3]
                i = j + 1
        else:
            out += re.escape(glob[i])
            i += 1
    return out + r"\Z"


__all__ = ["CONFIG_FILES", "ConfigFile", "DEFAULT_EXCLUDE", "ROOT_MARKERS", "Resolver", "amlforge_table", "describe", "project_channels",
           "load_config_file", "read_toml"]
