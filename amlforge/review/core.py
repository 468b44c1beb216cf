"""``amlforge review --base REF``: what a change to the configuration breaks.

1. Find the git repository of the project and resolve REF to a commit
   (:mod:`amlforge.integrations.git`; nothing in the repository changes).
2. Export the project's folder at that commit into a temporary folder (``git archive``).
3. Lint the base, then the work tree, with **one** configuration: the one under review
   (``[tool.amlforge]``, packs, profile, quota figures, options). Files are grouped into
   projects as ``amlforge lint`` groups them (the nearest configuration and root of each file
   in the work tree); each project is exported, linted and compared on its own. The work tree is linted inside
   :func:`~amlforge.policies.review._context.reviewing`, so the review rules (AML8xx) compare it
   with the base and report risky changes.
4. Compare the two sets of lint findings by rule, file and message (not line numbers, like a
   baseline), after mapping base paths to the work tree's and following renames: findings only
   under review are *new*, findings only at the base are *fixed*, the rest *unchanged*.

Exit code: 2 when a new finding is fatal (unreadable input), 1 when a new finding or a risky
change is at or above the fail level, else 0. Bad input (not a git repository, an unknown
reference, a bad policy pack) raises :class:`~amlforge.errors.UserInputError` (exit code 2).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec.structs
from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.integrations import git
from amlforge.policies.engine import LintReport, lint
from amlforge.policies.registry import Finding, Registry, Severity, load_catalog
from amlforge.specs.project import Project

REVIEW_AREA = "review"


class ReviewReport(Struct):
    """Result of one review."""

    base_ref: str
    base_commit: str
    head: LintReport
    base: LintReport | None
    new: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]
    risky: list[Finding]
    fail_on: Severity
    files: int = 0
    registry: Registry | None = field(default=None)
    #: The exit code of the projects' own fail levels, when the review spans several projects.
    floor: int = 0

    @property
    def findings(self) -> list[Finding]:
        """What the review reports as problems: risky changes and new findings, sorted."""
        return sorted(self.risky + self.new, key=Finding.sort_key)

    @property
    def exit_code(self) -> int:
        """0 nothing new at the fail level, 1 new findings or risky changes at it (a new file that
        does not parse is one, as in ``amlforge lint``)."""
        if any(f.fatal or f.severity.rank >= self.fail_on.rank for f in self.new + self.risky):
            return 1
        return self.floor

    @property
    def failing(self) -> bool:
        return self.exit_code != 0

    def counts(self, findings: list[Finding]) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in findings:
            out[f.severity.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``amlforge review --format json``)."""
        return {
            "base": {"ref": self.base_ref, "commit": self.base_commit},
            "fail_on": self.fail_on.value,
            "exit_code": self.exit_code,
            "summary": {"risky": len(self.risky), "new": len(self.new), "fixed": len(self.fixed),
                        "unchanged": len(self.unchanged)},
            "risky": [f.to_dict() for f in self.risky],
            "new": [f.to_dict() for f in self.new],
            "fixed": [f.to_dict() for f in self.fixed],
        }


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.rule, f.location.file, f.message)


def compare(base: list[Finding], head: list[Finding]) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(new, fixed, unchanged): findings matched by rule, file and message, counting repeats."""
    remaining = Counter(_key(f) for f in base)
    new, unchanged = [], []
    for f in head:
        if remaining[_key(f)] > 0:
            remaining[_key(f)] -= 1
            unchanged.append(f)
        else:
            new.append(f)
    left = Counter(_key(f) for f in head)
    fixed = []
    for f in base:
        if left[_key(f)] > 0:
            left[_key(f)] -= 1
        else:
            fixed.append(f)
    return new, fixed, unchanged


class _Mapper(Struct, frozen=True):
    """Maps base paths (in the temporary export) to the paths the same files have in the work tree.

    Attributes:
        tmp: The export folder (holds repository-relative paths).
        top: The repository root (real path).
        head_root: The project root as the run spells it (absolute, symlinks kept), so that mapped
            paths read exactly like the work tree's.
        renames: Repository-relative old path -> new path.
    """

    tmp: Path
    top: Path
    head_root: Path
    renames: dict[str, str]

    def display(self, file: str) -> str:
        from amlforge.specs.loader import display_path

        absolute = Path(os.path.realpath(os.path.abspath(file)))
        if absolute != self.tmp and self.tmp not in absolute.parents:
            return file
        rel = absolute.relative_to(self.tmp).as_posix()
        target = self.top / self.renames.get(rel, rel)
        try:
            target = self.head_root / target.relative_to(os.path.realpath(self.head_root))
        except ValueError:
            pass
        return display_path(target)

    def finding(self, f: Finding) -> Finding:
        shown = self.display(f.location.file)
        if shown == f.location.file:
            return f
        return msgspec.structs.replace(f, location=Location(shown, f.location.line, f.location.column))


def review_paths(
    paths: Sequence[Path | str],
    *,
    base: str,
    root: Path | None = None,
    config_file: Path | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str | None = None,
    profile: str | None = None,
    quota: Path | None = None,
    overrides: Sequence[tuple[str, str]] = (),
    variables: dict[str, str] | None = None,
    policies: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> ReviewReport:
    """Review the work tree against git reference ``base``: the library function behind ``amlforge review``.

    Args:
        paths: Files or folders to review (default: the current folder), as for ``amlforge lint``.
        base: A branch, tag or commit (``main``, ``origin/main``, ``HEAD~1``).
        options: Rule options that override ``[tool.amlforge.options]`` (``traffic_step``, ``quota_threshold``).

    Raises:
        UserInputError: not a git repository, an unknown reference, bad configuration or policy pack.
    """
    from amlforge.policies.config import build_config
    from amlforge.policies.engine import merge
    from amlforge.policies.settings import Resolver
    from amlforge.specs.loader import LoadOptions

    load_catalog()  # every area, the review rules included (lint alone skips them)
    # the files grouped into projects as `amlforge lint` groups them: each with the nearest
    # configuration and root of the work tree (the configuration under review)
    resolver = Resolver(config_file=config_file, root=root)
    given = [Path(p) for p in paths] or [Path(".")]
    found = resolver.files(given)
    groups = resolver.group(found)
    if not groups:  # nothing to lint in the work tree: the project of the first path (its base may have some)
        first = Path(os.path.abspath(given[0]))
        folder = first if first.is_dir() else first.parent
        groups = {(resolver.root_for(folder), resolver.config_for(folder).path): []}
    parts: list[_Part] = []
    with tempfile.TemporaryDirectory(prefix="amlforge-review-") as scratch:
        for number, ((project_root, _), files) in enumerate(groups.items()):
            cfg = resolver.config_for(Path(os.path.abspath(files[0][0])).parent if files else project_root)
            config = build_config(cfg.table, cfg.display, select=list(select), ignore=list(ignore), fail_on=fail_on,
                                  profile=profile, quota=quota,
                                  base_dir=cfg.path.parent if cfg.path else project_root, policies=list(policies),
                                  folders={k: cfg.folder_of(k) for k in cfg.sources})
            config.options.update(options or {})
            load = LoadOptions(root=project_root, overrides=list(overrides), variables=dict(variables or {}),
                               profile=config.profile)
            tmp = Path(os.path.realpath(scratch)) / str(number)
            tmp.mkdir()
            parts.append(_review_project(given, files, config, load, base, tmp))
    head_report = merge([p.head for p in parts])
    bases = [p.base for p in parts if p.base is not None]
    base_report = merge(bases) if bases else None
    fail = max((p.config.fail_on for p in parts), key=lambda sev: sev.rank)  # the floor carries the stricter ones
    review = ReviewReport(base, parts[0].commit[:12], head_report, base_report,
                          sorted((f for p in parts for f in p.new), key=Finding.sort_key),
                          sorted((f for p in parts for f in p.fixed), key=Finding.sort_key),
                          sorted((f for p in parts for f in p.unchanged), key=Finding.sort_key),
                          sorted((f for p in parts for f in p.risky), key=Finding.sort_key),
                          fail, head_report.files, head_report.registry)
    review.floor = max(_exit_code(p.new, p.risky, p.config.fail_on) for p in parts)
    return review


class _Part(Struct):
    """The review of one project (one root and configuration) of the run."""

    config: Any
    commit: str
    head: LintReport
    base: LintReport | None
    new: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]
    risky: list[Finding]


def _exit_code(new: list[Finding], risky: list[Finding], fail_on: Severity) -> int:
    return 1 if any(f.fatal or f.severity.rank >= fail_on.rank for f in new + risky) else 0


def _review_project(given: list[Path], files: list[tuple[Path, bool]], config: Any, load: Any, base: str,
                    tmp: Path) -> _Part:
    """Lint the files of one project at ``base`` (exported into ``tmp``) and in the work tree, with
    the work tree's configuration, and compare."""
    from amlforge.policies.review._context import ReviewContext, reviewing

    head_root = Path(os.path.abspath(load.root))
    top = git.toplevel(head_root)
    commit = git.resolve(base, top)
    real_root = Path(os.path.realpath(head_root))
    if real_root != top and top not in real_root.parents:
        raise UserInputError("the project root is outside the git repository", Location(str(head_root)),
                             f"review paths inside {top}")
    rel_root = real_root.relative_to(top).as_posix() if real_root != top else "."
    renames = git.renames(commit, top, [rel_root])
    exported = git.export(commit, top, tmp, [rel_root])
    base_root = tmp / rel_root if rel_root != "." else tmp
    base_given = []
    for p in given:  # what was named, at the base: below this project, or the whole project when named above it
        real = Path(os.path.realpath(os.path.abspath(p)))
        if real != top and top not in real.parents:
            raise UserInputError("path is outside the git repository", Location(str(p)), f"review paths inside {top}")
        if real != real_root and real_root not in real.parents:
            if real not in real_root.parents:
                continue  # another project of the run
            real = real_root
        mapped = tmp / real.relative_to(top) if real != top else tmp
        if mapped.exists() and mapped not in base_given:
            base_given.append(mapped)
    base_report = _lint_base(base_given, config, msgspec.structs.replace(load, root=base_root)) if exported else None
    base_project = base_report.project if base_report is not None else None
    if base_project is None:
        base_project = _empty_project(base_root, config)
    with reviewing(ReviewContext(base_project, base)):
        head_report = lint([p for p, _ in files], config, msgspec.structs.replace(load, files=files))
    mapper = _Mapper(tmp, top, head_root, renames)
    registry = head_report.registry
    head_all = [mapper.finding(f) for f in head_report.findings]
    base_all = [mapper.finding(f) for f in base_report.findings] if base_report is not None else []

    def area(f: Finding) -> str:
        r = registry.get(f.rule) if registry is not None else None
        return r.area if r is not None else ""

    risky = [f for f in head_all if area(f) == REVIEW_AREA]
    linted = [f for f in head_all if area(f) != REVIEW_AREA]
    new, fixed, unchanged = compare([f for f in base_all if area(f) != REVIEW_AREA], linted)
    return _Part(config, commit, head_report, base_report, new, fixed, unchanged, risky)


def _lint_base(given: list[Path], config: Any, load: Any) -> LintReport | None:
    """Lint the exported base; None when it holds nothing to lint (the project is new)."""
    if not given:
        return None
    try:
        return lint(given, config, load)
    except UserInputError as e:
        if e.message.startswith(("no YAML files found", "no az-ml online endpoint")):
            return None
        raise


def _empty_project(root: Path, config: Any) -> Project:
    project = Project(root=root, profile=config.profile)
    project.options.update(config.options)
    if config.quota_file is not None:
        from amlforge.specs.quota import load_quota

        project.quota = load_quota(config.quota_file)
    return project


__all__ = ["ReviewReport", "compare", "review_paths"]
