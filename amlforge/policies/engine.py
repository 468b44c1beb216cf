"""Run the catalog over a project: load problems + rule violations -> findings.

The engine, not the rules, turns places into file:line:col, applies the configuration
(select, ignore, per-rule severity), inline suppressions and the baseline, and sorts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import Location
from amlforge.policies.config import LintConfig
from amlforge.policies.registry import Finding, Registry, Rule, Severity, Violation, load_catalog
from amlforge.specs.edits import Fix
from amlforge.specs.loader import PROJECT_SPEC, LoadOptions, LoadProblem, NothingToLint, load_project
from amlforge.specs.overlay import Overlay
from amlforge.specs.project import Anchor, Document, Project

_SUPPRESS = LazyPattern(r"#\s*amlforge:\s*(ignore|ignore-file)\[([A-Za-z0-9_,\s-]+)\]")
UNUSED_SUPPRESSION = "AML009"


class LintReport(Struct):
    """Result of one lint run."""

    findings: list[Finding]
    project: Project | None
    files: int
    fail_on: Severity
    suppressed: int = 0
    baselined: int = 0
    rules_run: int = 0
    #: The rules of this run: the catalog plus the rules of its policy packs.
    registry: Registry | None = None
    #: Files read and skipped as not az-ml, each with the reason (``amlforge lint -v``).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Warnings about the run itself, not findings (a folder with nothing to lint).
    notes: list[str] = field(default_factory=list)
    #: Whether unsafe fixes count as fixable (``--unsafe-fixes``), and how many fixes ``--fix`` applied.
    unsafe_fixes: bool = False
    fixed: int = 0
    #: Every project of the run (one per project root and configuration); ``project`` is the first.
    projects: list[Project] = field(default_factory=list)
    #: The exit code of the projects' own fail levels, when a run merges several (see :func:`merge`).
    floor: int = 0

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings at or above the fail level (a file that does not parse is a
        finding, as in ruff). Usage errors (exit 2) are raised before a report exists."""
        if any(f.fatal or f.severity.rank >= self.fail_on.rank for f in self.findings):
            return 1
        return self.floor

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out


class _Suppressions(Struct):
    by_line: dict[tuple[str, int, int], set[str]] = field(default_factory=dict)
    by_file: dict[str, set[str]] = field(default_factory=dict)
    # keys are (file, cell, line[, rule]); cell is 0 outside notebooks
    where: dict[tuple[str, int, int, str], Location] = field(default_factory=dict)
    used: set[tuple[str, int, int, str]] = field(default_factory=set)


def run_checks(project: Project, rules: Iterable[Rule]) -> list[tuple[Rule, Violation]]:
    """Run each rule's check and pair it with its violations.

    A violation at a value that a reader could not know statically (``SourceMap.unknown``),
    or whose message quotes such a value (a rule that combined it with a known one), is dropped,
    unless the rule reports such values: rules never guess with unknown values.
    """
    out = []
    for r in rules:
        if r.check is None or not r.applies(project.profile):
            continue
        for v in r.check(project):
            if not r.sees_unknown and (_at_unknown(v) or _UNKNOWN_TEXT in v.message):
                continue  # at an unknown value, or a message that quotes one: the rule used it
            out.append((r, v))
    return out


#: How an unknown value reads (``readers.base.Unknown``); a message that quotes it was built from it.
_UNKNOWN_TEXT = "<unknown: "


def _at_unknown(v: Violation) -> bool:
    at = v.at
    return isinstance(at, Anchor) and at.doc.source.is_unknown(at.path)


def _finding(r: Rule, location: Location, message: str, hint: str, severity: Severity | None,
             fix: Fix | None = None) -> Finding:
    return Finding(r.id, r.name, severity or r.severity, location, message, hint, r.prevents, r.fatal, fix)


def _scan_suppressions(files: dict[str, list[str]], registry: Registry,
                       cells: dict[str, list[tuple[int, int, int]]] | None = None) -> _Suppressions:
    """Suppression comments of each file. A notebook's lines are its code cells joined; ``cells``
    maps each to its (cell, line in the cell, line in the file)."""
    sup = _Suppressions()
    for display, lines in files.items():
        line_map = (cells or {}).get(display)

        def at(n: int) -> tuple[int, int]:
            if line_map is None:
                return 0, n
            if n > len(line_map):
                return -1, 0
            return line_map[n - 1][0], line_map[n - 1][1]

        for number, text in enumerate(lines, start=1):
            if "amlforge:" not in text:
                continue
            for m in _SUPPRESS.finditer(text):
                ids = {registry.get(x).id if registry.get(x) else x.strip().upper() for x in m.group(2).split(",")}
                ids.discard("")
                cell, line = at(number)
                if m.group(1) == "ignore-file":
                    sup.by_file.setdefault(display, set()).update(ids)
                else:
                    # a comment alone on its line covers the next line; a trailing one its own line
                    target = at(number + 1) if text.lstrip().startswith("#") else (cell, line)
                    sup.by_line.setdefault((display, *target), set()).update(ids)
                for rid in ids:
                    file_line = line_map[number - 1][2] if line_map else 0
                    sup.where[(display, cell, line if m.group(1) == "ignore" else 0, rid)] = Location(
                        display, line, m.start() + 1, cell, file_line
                    )
    return sup


def _suppressed(sup: _Suppressions, f: Finding) -> bool:
    loc = f.location
    ids = sup.by_line.get((loc.file, loc.cell, loc.line), set())
    if f.rule in ids:
        # record which comment was used: a trailing one on this line, or one alone on the line above
        for candidate in (loc.line, loc.line - 1):
            if (loc.file, loc.cell, candidate, f.rule) in sup.where:
                sup.used.add((loc.file, loc.cell, candidate, f.rule))
                break
        return True
    if f.rule in sup.by_file.get(loc.file, set()):
        for key in sup.where:
            if key[0] == loc.file and key[2] == 0 and key[3] == f.rule:
                sup.used.add(key)
        return True
    return False


def lint(paths: Sequence[Path | str], config: LintConfig | None = None, load: LoadOptions | None = None) -> LintReport:
    """Lint az-ml YAML under ``paths``: the library function behind ``amlforge lint``.

    Raises:
        UserInputError: a path does not exist or holds nothing to lint.
    """
    from amlforge.policies.config import validate

    config = config or LintConfig()
    load = load or LoadOptions(profile=config.profile)
    # the review rules report only inside `amlforge review`, which loads them itself
    registry = run_registry(config, skip=("review",))
    validate(config, registry)
    try:
        result = load_project(paths, load)
    except NothingToLint as e:  # only folders were given: nothing to lint is not a misuse
        empty = finish([], None, config, registry, files=0)
        empty.notes.append(f"{e.message}; {e.hint}" if e.hint else e.message)
        return empty
    project = result.project
    project.options.update(config.options)
    project.channels = list(config.channels)
    if config.quota_file is not None:
        from amlforge.specs.quota import load_quota

        project.quota = load_quota(config.quota_file)
    if config.knowledge_file is not None:
        project.knowledge_file = config.knowledge_file
        project.knowledge  # read now: a malformed file is a usage error (exit 2), not a rule's crash
    if config.instance_type_files:
        result.problems.extend(_add_instance_types(project, config.instance_type_files, load))
    active = [r for r in registry if config.enabled(r)]
    raw: list[Finding] = []
    for problem in result.problems:
        raw.append(_problem_finding(registry, problem))
    for r, v in run_checks(project, active):
        raw.append(_finding(r, v.location, v.message, v.hint, v.severity, v.fix))
    for doc in project.documents:
        if doc.kind == PROJECT_SPEC and doc.spec is not None:
            raw.extend(_lint_spec(doc, project, registry, active, config, load))
    unique = list(dict.fromkeys(raw))  # a conda file or score.py that a spec and YAML of the run share
    report = finish(unique, project, config, registry, files=len(project.documents) + _failed_files(result.problems))
    report.skipped = list(result.skipped)
    return report


def _add_instance_types(project: Project, files: Sequence[Path], load: LoadOptions) -> list[LoadProblem]:
    """The cluster's InstanceType objects named by the configuration (``instance_types``), added
    to the run's project; a file that holds none is a configuration error."""
    import msgspec.structs

    from amlforge.errors import UserInputError

    known = {d.path for d in project.documents}
    extra = load_project(files, msgspec.structs.replace(load, overrides=(), skip_unknown=False, overlay=None, files=None))
    holding = {d.path for d in extra.project.documents if d.kind.startswith("kubernetes_instancetype")}
    for path in files:
        if Path(os.path.abspath(path)) not in holding:
            raise UserInputError("the configuration's instance_types names a file without Kubernetes InstanceType "
                                 "objects", Location(str(path)),
                                 "name the output of 'kubectl get instancetypes -o yaml' (kind InstanceType or "
                                 "InstanceTypeList)")
    for doc in extra.project.documents:
        if doc.path not in known:
            project.documents.append(doc)
    project.instance_types.extend(t for t in extra.project.instance_types if t.doc.path not in known)
    return extra.problems


_PROFILES = ("dev", "test", "prod")


def _lint_spec(doc: Document, project: Project, registry: Registry, active: list[Rule], config: LintConfig,
               load: LoadOptions) -> list[Finding]:
    """Findings of an ``amlforge.yaml``: its az-ml YAML rendered in memory, linted, and every
    finding pointed back at the spec line its value came from (generators/virtual.py).

    The spec's ``target.profile`` applies when it is stricter than the run's.
    """
    import msgspec.structs

    from amlforge.errors import UserInputError
    from amlforge.generators.virtual import input_problem_code, render_virtual

    try:
        virtual = render_virtual(doc)
    except UserInputError as e:
        return [_problem_finding(registry, LoadProblem(input_problem_code(e), e.location or doc.source.locate(()),
                                                       e.message, e.hint))]
    spec_profile = doc.spec.target.profile
    profile = max(load.profile, spec_profile, key=lambda p: _PROFILES.index(p) if p in _PROFILES else -1)
    # on top of the run's own overlay (the text --fix produced, the editor's open documents)
    options = msgspec.structs.replace(load, overlay=virtual.overlay.on(load.overlay), profile=profile, overrides=(),
                                  skip_unknown=False, files=None)
    result = load_project([virtual.yaml_dir], options)
    rendered = result.project
    rendered.options.update(project.options)
    rendered.channels = list(project.channels)
    rendered.quota = project.quota
    rendered.knowledge_file = project.knowledge_file
    sources = {d.display: d.source for d in rendered.documents}
    key = Path(os.path.relpath(os.path.abspath(doc.path), project.root)).as_posix()
    project.rendered[key] = rendered
    found = [_problem_finding(registry, p) for p in result.problems]
    from amlforge.policies.review._context import reviewing_rendered

    with reviewing_rendered(key):  # under review, compare with the same spec at the base
        found += [_finding(r, v.location, v.message, v.hint, v.severity, v.fix) for r, v in run_checks(rendered, active)]
    return [virtual.relocate(f, sources.get(f.location.file)) for f in found]


def run_registry(config: LintConfig, skip: Sequence[str] = ()) -> Registry:
    """The catalog (without the ``skip`` areas) plus the rules of the configuration's policy
    packs: a registry of the run's own, since the global catalog never holds pack rules."""
    registry = load_catalog(skip=tuple(skip))
    if not config.policies:
        return registry
    from amlforge.policies.packs import registry_with_packs

    return registry_with_packs(registry, config.policies)


def lint_paths(paths: Sequence[Path | str], **options: Any) -> LintReport:
    """Lint as ``amlforge lint`` does: each file with the configuration and project root nearest
    to it (:mod:`amlforge.policies.settings`), one :class:`Project` per (root, configuration),
    the findings merged and sorted.

    Takes the keyword options of :func:`configure` (root, config_file, select, ignore, fail_on,
    profile, baseline, quota, overrides, variables, skip_unknown, policies, overlay, parameters) and
    ``exclude`` (``--exclude`` patterns) and ``force_exclude``. An ``overlay`` of files (the
    editor's documents, the passes of ``--fix``, standard input) is read in place of the disk in
    the same walk, exclusions and projects; one that owns a given folder (the self-check of
    ``amlforge generate``, whose output exists only in memory) makes the run one project, as
    :func:`configure` makes it.

    Raises:
        UserInputError: a path does not exist, nothing to lint, a bad configuration or selector.
    """
    exclude = options.pop("exclude", ())
    force_exclude = options.pop("force_exclude", False)
    overlay = options.get("overlay")
    if overlay is not None and any(overlay.is_dir(p) for p in paths):
        return lint(*configure(paths, **options))
    from amlforge.policies.config import build_config
    from amlforge.policies.settings import Resolver

    resolver = Resolver(config_file=options.get("config_file"), root=options.get("root"), exclude=exclude,
                        force_exclude=force_exclude)
    given = [Path(p) for p in paths] or [Path(".")]
    found = resolver.files(given, overlay)
    skip_unknown = bool(options.get("skip_unknown"))
    if not found:  # nothing to lint is not a misuse: a warning and exit 0, as for one project
        from amlforge.policies.config import LintConfig

        empty = finish([], None, LintConfig(), run_registry(LintConfig(), skip=("review",)), files=0)
        if not force_exclude:
            shown = ", ".join(str(p) for p in given)
            empty.notes.append(f"no YAML files found under {shown}; pass the folder or files that hold your az-ml "
                               "endpoint, deployment and environment YAML"
                               + (" (or check exclude, extend-exclude and --exclude)" if exclude else ""))
        return empty
    reports = []
    for (project_root, _), files in resolver.group(found).items():
        cfg = resolver.config_for(Path(os.path.abspath(files[0][0])).parent)
        here = cfg.path.parent if cfg.path else project_root
        config = build_config(
            cfg.table, cfg.display, select=list(options.get("select", ())), ignore=list(options.get("ignore", ())),
            fail_on=options.get("fail_on"), profile=options.get("profile"), baseline=options.get("baseline"),
            quota=options.get("quota"), base_dir=here, policies=list(options.get("policies", ())),
            folders={k: cfg.folder_of(k) for k in cfg.sources})
        load = LoadOptions(root=project_root, overrides=list(options.get("overrides", ())),
                           variables=dict(options.get("variables") or {}), profile=config.profile,
                           skip_unknown=skip_unknown, files=files, overlay=overlay,
                           parameters=Path(options["parameters"]) if options.get("parameters") else None)
        reports.append(lint([p for p, _ in files], config, load))
    report = merge(reports)
    if report.files == 0 and not report.findings and not skip_unknown and not force_exclude and not report.notes:
        skipped = f" ({len(report.skipped)} file(s) skipped as not az-ml; -v lists them)" if report.skipped else ""
        report.notes.append(f"no az-ml online endpoint, deployment, environment or model found{skipped}; "
                            "amlforge recognises YAML by its $schema line or its keys (endpoint_name, "
                            "instance_type, ...), templates by their resources, Python by its azure-ai-ml calls")
    return report


def merge(reports: Sequence[LintReport]) -> LintReport:
    """One report of several projects' reports: findings together and sorted, counts added up,
    the exit code the worst of the projects' (each under its own fail level)."""
    if not reports:
        from amlforge.policies.registry import load_catalog

        return LintReport([], None, 0, Severity.WARNING, registry=load_catalog(skip=("review",)))
    if len(reports) == 1:
        return reports[0]
    findings = sorted((f for r in reports for f in r.findings), key=Finding.sort_key)
    registries = list({id(r.registry): r.registry for r in reports if r.registry is not None}.values())
    registry = registries[0] if len(registries) == 1 else _union(registries)
    projects = [p for r in reports for p in (r.projects or ([r.project] if r.project else []))]
    fail_on = max((r.fail_on for r in reports), key=lambda s: s.rank)  # the floor carries the stricter ones
    notes = [n for r in reports for n in r.notes]
    return LintReport(findings, projects[0] if projects else None, sum(r.files for r in reports), fail_on,
                      sum(r.suppressed for r in reports), sum(r.baselined for r in reports),
                      rules_run=max(r.rules_run for r in reports), registry=registry,
                      skipped=[s for r in reports for s in r.skipped],
                      notes=list(dict.fromkeys(notes)),
                      projects=projects, floor=max(r.exit_code for r in reports))


def _union(registries: Sequence[Registry | None]) -> Registry:
    out = Registry()
    for registry in registries:
        for r in registry or ():
            if out.get(r.id) is None:
                out.add(r)
    return out


def configure(
    paths: Sequence[Path | str],
    *,
    root: Path | None = None,
    config_file: Path | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str | None = None,
    profile: str | None = None,
    baseline: Path | None = None,
    quota: Path | None = None,
    overrides: Sequence[tuple[str, str]] = (),
    variables: dict[str, str] | None = None,
    skip_unknown: bool = False,
    policies: Sequence[str] = (),
    overlay: Overlay | None = None,
    parameters: Path | None = None,
) -> tuple[list[Path], LintConfig, LoadOptions]:
    """The paths, configuration and load options of a run of ONE project: the root of the first
    path (or ``root``) and its configuration (or ``config_file``) apply to every path.

    Only for runs that are one project by nature: the self-check of ``amlforge generate`` (its
    output, in memory in an overlay that owns the output folder, is linted as part of the spec's
    project with the spec's configuration, wherever it goes; :func:`lint_paths` sends such a run
    here) and the catalog of ``amlforge rules``/``explain`` (the configuration of the working
    directory). Everything that lints files the user names (lint, ``--fix``/``--diff``, standard
    input, quota, review, the language server) groups them with
    :class:`~amlforge.policies.settings.Resolver`, so that each file gets the configuration and
    root nearest to it.
    """
    from amlforge.policies.config import build_config, load_config
    from amlforge.specs.loader import find_root

    given = [Path(p) for p in paths] or [Path(".")]
    project_root = Path(root) if root else find_root(given)
    table, source = load_config(project_root, config_file)
    base_dir = Path(source).parent if source else project_root
    config = build_config(table, source, select=list(select), ignore=list(ignore), fail_on=fail_on,
                          profile=profile, baseline=baseline, quota=quota, base_dir=base_dir,
                          policies=list(policies))
    load = LoadOptions(root=project_root, overrides=list(overrides), variables=dict(variables or {}),
                       profile=config.profile, skip_unknown=skip_unknown, overlay=overlay,
                       parameters=Path(parameters) if parameters else None)
    return given, config, load


def _failed_files(problems: Iterable[LoadProblem]) -> int:
    return len({p.location.file for p in problems if p.fatal})


def _problem_finding(registry: Registry, problem: LoadProblem) -> Finding:
    r = registry.get(problem.code)
    if r is None:  # pragma: no cover - every loader code is declared; a test checks it
        raise KeyError(problem.code)
    return Finding(r.id, r.name, r.severity, problem.location, problem.message, problem.hint, r.prevents,
                   problem.fatal or r.fatal, problem.fix)


def finish(raw: list[Finding], project: Project | None, config: LintConfig, registry: Registry, files: int) -> LintReport:
    """Apply configuration, suppressions and baseline; sort; build the report."""
    findings: list[Finding] = []
    texts: dict[str, list[str]] = {}
    cells: dict[str, list[tuple[int, int, int]]] = {}
    if project is not None:
        for doc in project.documents:
            texts[doc.display] = doc.source.lines
            if doc.source.cells:
                cells[doc.display] = doc.source.cells
    for f in raw:
        r = registry.get(f.rule)
        if r is not None and not f.fatal and not config.enabled(r):
            continue
        override = config.severity_for(f.rule, f.name)
        if override is not None and not f.fatal:
            f = Finding(f.rule, f.name, override, f.location, f.message, f.hint, f.prevents, f.fatal, f.fix)
        findings.append(f)
    for f in findings:
        if f.location.file not in texts:
            in_memory = project.read_overlay(f.location.file) if project is not None else None
            texts[f.location.file] = in_memory.splitlines() if in_memory is not None else _read_lines(f.location.file)
    sup = _scan_suppressions(texts, registry, cells)
    kept = [f for f in findings if f.fatal or not _suppressed(sup, f)]
    suppressed = len(findings) - len(kept)
    unused_rule = registry.get(UNUSED_SUPPRESSION)
    if unused_rule is not None and config.enabled(unused_rule):
        for key, loc in sorted(sup.where.items(), key=lambda kv: (kv[1].file, kv[1].cell, kv[1].line, kv[0][3])):
            rid = key[3]
            if key not in sup.used:
                known = registry.get(rid) is not None
                if known and not config.enabled(registry.get(rid)):
                    continue  # the rule is switched off here; its suppressions are not stale
                kept.append(_finding(
                    unused_rule, loc,
                    f"suppression of {rid} is unused" if known else f"suppression names unknown rule {rid}",
                    "remove it, or move it next to the line the finding points at" if known else
                    "use a rule ID from 'amlforge rules'", None))
    baselined = 0
    if config.baseline is not None:
        before = len(kept)
        kept = [f for f in kept if f.fatal or not config.baseline.accepts(f)]
        baselined = before - len(kept)
    kept.sort(key=Finding.sort_key)
    return LintReport(kept, project, files, config.fail_on, suppressed, baselined,
                      rules_run=sum(1 for r in registry if config.enabled(r)), registry=registry,
                      projects=[project] if project is not None else [])


def _read_lines(display: str) -> list[str]:
    from amlforge.errors import UserInputError
    from amlforge.specs.files import read_user_text

    try:
        return read_user_text(display, display, 2_000_000, errors="replace").splitlines()
    except UserInputError:
        return []


__all__ = ["LintReport", "configure", "finish", "lint", "lint_paths", "merge", "run_checks", "run_registry"]
