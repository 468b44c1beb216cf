"""``amlforge generate``: render every artifact, lint it, then write it atomically (or diff it).

1. Load and validate the spec (:func:`~amlforge.specs.project_spec.load_spec`).
2. Read what the pure generators need from disk (:func:`~amlforge.generators.inputs.read_inputs`).
3. Render the selected targets in memory (:func:`render_files`): byte-identical output for the
   same input (sorted iteration, no clock, no environment).
4. Self-check: lint the az-ml YAML (and the build contexts it refers to) in memory, at the
   paths it will have, with amlforge's own policies and the project's configuration and
   profile. Any error refuses the whole run: nothing is written.
5. Write changed files with :func:`~amlforge.generators.writer.write_files_atomic`, remove files a
   previous run generated that are no longer part of the output (listed in
   ``.amlforge-generated.json``), or with ``check=True`` only report a unified diff.
"""

from __future__ import annotations

import difflib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from amlforge.errors import Location, UserInputError
from amlforge.generators.inputs import ARM_DIR, BICEP_DIR, DOCKER_DIR, YAML_DIR, Inputs, read_inputs, relative_posix
from amlforge.generators.writer import leftover_temp_files, write_files_atomic
from amlforge.specs.loader import GENERATED_MANIFEST, read_generated_manifest

if TYPE_CHECKING:
    from amlforge.policies.engine import LintReport
    from amlforge.policies.registry import Finding
    from amlforge.specs.overlay import Overlay
    from amlforge.specs.project_spec import LoadedSpec

#: Targets of ``--only``, in output order.
TARGETS = ("yaml", "arm", "bicep", "docker")
_FOLDERS = {"yaml": YAML_DIR, "arm": ARM_DIR, "bicep": BICEP_DIR, "docker": DOCKER_DIR}
#: Lists the files a run generated, so that a later run can remove the ones it no longer makes
#: (and ``amlforge lint`` skips them when it lints their spec).
MANIFEST = GENERATED_MANIFEST


def parse_targets(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"yaml,arm"`` -> ``("yaml", "arm")`` in canonical order.

    Raises:
        UserInputError: an unknown target.
    """
    if value is None:
        return TARGETS
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {v.strip().lower() for v in items if v.strip()}
    unknown = sorted(wanted - set(TARGETS))
    if unknown or not wanted:
        raise UserInputError(f"unknown target '{', '.join(unknown) or value}' for --only", None,
                             "choose from " + ", ".join(TARGETS) + " (comma-separated)")
    return tuple(t for t in TARGETS if t in wanted)


def owned_folders(inputs: Inputs, targets: Sequence[str]) -> tuple[str, ...]:
    """Top-level output folders a run with these targets writes. YAML refers to the build
    contexts of ``dockerfile: true`` environments, so it brings them along."""
    folders = [_FOLDERS[t] for t in targets]
    if "yaml" in targets and DOCKER_DIR not in folders and any(e.dockerfile for e in inputs.spec.environments.values()):
        folders.append(DOCKER_DIR)
    return tuple(folders)


def render_files(inputs: Inputs, targets: Sequence[str] = TARGETS) -> dict[str, str]:
    """Render the selected targets: relative path (``/``-separated) -> text, sorted by path."""
    from amlforge.generators.arm import generate_arm
    from amlforge.generators.azureml_yaml import generate_yaml
    from amlforge.generators.bicep import generate_bicep
    from amlforge.generators.dockerfile import generate_docker
    from amlforge.generators.resources import build_template

    files: dict[str, str] = {}
    folders = owned_folders(inputs, targets)
    if YAML_DIR in folders:
        files.update(generate_yaml(inputs))
    if ARM_DIR in folders or BICEP_DIR in folders:
        template = build_template(inputs)
        if ARM_DIR in folders:
            files.update(generate_arm(inputs, template))
        if BICEP_DIR in folders:
            files.update(generate_bicep(inputs, template))
    if DOCKER_DIR in folders:
        files.update(generate_docker(inputs))
    return dict(sorted(files.items()))


@dataclass
class GenerateResult:
    """What a run did (or would do, with ``check``).

    Attributes:
        out_dir: The output folder.
        files: Rendered files (relative path -> text).
        changed: Files written (or, with ``check``, out of date).
        removed: Files of an earlier run removed (or, with ``check``, to be removed).
        diff: Unified diff of the out-of-date files (``check`` only).
        findings: Self-check findings, located in the output folder.
        notes: Other things worth telling the user (a stale conda lock, ...).
        refused: The self-check found errors; nothing was written.
        check: Whether this was a ``--check`` run.
        leftovers: Temporary files an interrupted run left in the output folder (removed, or
            with ``check``, reported: the folder is then not up to date).
    """

    out_dir: Path
    files: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    diff: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False
    check: bool = False
    leftovers: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 done (or up to date), 1 refused by the self-check or stale with ``check``."""
        if self.refused:
            return 1
        if self.check and (self.changed or self.removed or self.leftovers):
            return 1
        return 0


def yaml_overlay(inputs: Inputs, files: dict[str, str], out_dir: Path) -> Overlay:
    """The az-ml YAML of ``files`` (and the build contexts it names) as they will sit in
    ``out_dir``: an overlay that owns those folders there."""
    from amlforge.specs.overlay import Overlay

    owned = owned_folders(inputs, ("yaml",))
    return Overlay({out_dir / rel: text for rel, text in files.items() if rel.split("/", 1)[0] in owned},
                   [out_dir / folder for folder in owned])


def self_check(inputs: Inputs, spec_folder: Path, out_dir: Path, rendered: dict[str, str] | None = None) -> list[Finding]:
    """Lint the az-ml YAML that ``inputs`` renders, as it will sit in ``out_dir``, before anything is written.

    The YAML and the build contexts it names reach the linter as an in-memory
    :class:`~amlforge.specs.overlay.Overlay` at the paths they will have, so nothing is staged
    on disk and findings point at the files in ``out_dir``. The project's configuration and
    the spec's profile apply. ``rendered`` is the output of :func:`render_files` when the
    caller has it already (it must include the YAML target).
    """
    return _self_check_report(inputs, spec_folder, out_dir, rendered).findings


def _self_check_report(inputs: Inputs, spec_folder: Path, out_dir: Path, rendered: dict[str, str] | None) -> LintReport:
    from amlforge.policies.config import load_config
    from amlforge.policies.engine import lint_paths
    from amlforge.specs.loader import find_root

    files = rendered if rendered is not None else render_files(inputs, ("yaml",))
    out = Path(os.path.abspath(out_dir))
    overlay = yaml_overlay(inputs, files, out)
    project_root = find_root([spec_folder])
    _, config_source = load_config(project_root)
    # an output folder outside the project widens the root, so that the paths that lead from
    # it back to the spec's code and conda files do not count as leaving the project
    root = Path(os.path.commonpath([os.path.realpath(out), os.path.realpath(project_root)]))
    report = lint_paths([out / YAML_DIR], root=root, profile=inputs.spec.target.profile,
                        config_file=Path(config_source) if config_source else None, overlay=overlay)
    return report


def _at_spec_lines(report: LintReport, spec: LoadedSpec, out: Path, files: Sequence[str]) -> list[Finding]:
    """The findings of a self-check moved from the rendered files to the spec lines their values
    came from, as ``amlforge lint amlforge.yaml`` reports them (generators/virtual.py)."""
    from amlforge.generators.virtual import VirtualOutput, origins_of

    relocator = VirtualOutput(None, out, origins_of(spec.spec, files), spec.source)  # type: ignore[arg-type]
    sources = {d.display: d.source for d in report.project.documents} if report.project is not None else {}
    moved = [relocator.relocate(f, sources.get(f.location.file)) for f in report.findings]
    return sorted(dict.fromkeys(moved), key=lambda f: f.sort_key())


def _manifest(spec_ref: str, files: Sequence[str]) -> str:
    return json.dumps({"generator": "amlforge", "spec": spec_ref, "files": sorted(files)}, indent=2) + "\n"


#: Largest existing output file compared with what a run generates.
_MAX_CURRENT_BYTES = 50 * 1024 * 1024


def guard_target(out: Path, rel: str) -> None:
    """Refuse a target below ``out`` that a run must not write, read or remove: one reached
    through a symbolic link (a link file, or a linked sub-folder), or one where a folder or a
    special file (a FIFO, a device) stands. ``out`` itself may be a link: the user named it.

    Raises:
        UserInputError: located at the offending path; nothing has been written yet.
    """
    path = out
    parts = rel.split("/")
    for i, part in enumerate(parts):
        path = path / part
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as e:
            raise UserInputError(f"cannot inspect the output path: {e.strerror or e}", Location(str(path), 1, 1),
                                 "check the output folder") from None
        if stat.S_ISLNK(info.st_mode):
            raise UserInputError(
                "is a symbolic link in the output folder; amlforge generate does not write, read or remove "
                "files through symbolic links", Location(str(path), 1, 1),
                "remove the link (generated files are plain files), or choose another output folder")
        last = i == len(parts) - 1
        if not last and not stat.S_ISDIR(info.st_mode):
            raise UserInputError("is not a folder, but generated files go below it", Location(str(path), 1, 1),
                                 "move it away, or choose another output folder")
        if last and not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise UserInputError(f"is {what}, where a generated file goes", Location(str(path), 1, 1),
                                 "move it away, or choose another output folder")


def _current(path: Path) -> str | None:
    """The text of an existing output file (checked by :func:`guard_target` first), or None."""
    from amlforge.specs.files import read_user_bytes

    try:
        return read_user_bytes(path, str(path), _MAX_CURRENT_BYTES, nofollow=True).decode("utf-8")
    except (UserInputError, UnicodeDecodeError):
        return None


def generate_project(spec_path: Path | str, out_dir: Path | str, targets: Sequence[str] = TARGETS, *,
                     check: bool = False, lint: bool = True) -> GenerateResult:
    """The library function behind ``amlforge generate``.

    Raises:
        UserInputError: unreadable or invalid spec (``SpecError`` lists every problem), a
            missing conda file, or an output folder that cannot be written.
    """
    from amlforge.policies.registry import Severity
    from amlforge.specs.project_spec import load_spec

    loaded = load_spec(spec_path)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError("the output path is a file", Location(str(out)), "pass a folder with -o")
    inputs = read_inputs(loaded, out)
    files = render_files(inputs, targets)
    result = GenerateResult(out, files=files, notes=list(inputs.notes), check=check)
    if lint and "yaml" in targets:
        report = _self_check_report(inputs, loaded.folder, out, files)
        result.findings = report.findings
        if any(f.fatal or f.severity == Severity.ERROR for f in result.findings):
            # nothing is written: point at the spec lines to fix, not at files that do not exist
            result.findings = _at_spec_lines(report, loaded, Path(os.path.abspath(out)), list(files))
            result.refused = True
            return result

    owned = owned_folders(inputs, targets)
    guard_target(out, MANIFEST)
    _, previous = read_generated_manifest(out)
    keep = [f for f in previous if f.split("/", 1)[0] not in owned]
    stale = sorted(f for f in previous if f.split("/", 1)[0] in owned and f not in files)
    manifest_text = _manifest(relative_posix(loaded.path, Path(os.path.abspath(out))), [*keep, *files])
    wanted = {**files, MANIFEST: manifest_text}
    for rel in [*wanted, *stale]:  # before anything is read, diffed, written or removed
        guard_target(out, rel)
    result.leftovers = [relative_posix(p, out) for folder in owned for p in leftover_temp_files(out / folder)]
    result.leftovers += [relative_posix(p, out) for p in leftover_temp_files(out)
                         if p.parent == out and p.name.startswith(f".{MANIFEST}.")]
    diffs: list[str] = []
    for rel, text in wanted.items():
        current = _current(out / rel)
        if current == text:
            continue
        result.changed.append(rel)
        if check:
            diffs.extend(difflib.unified_diff((current or "").splitlines(keepends=True), text.splitlines(keepends=True),
                                              f"a/{rel}" if current is not None else "/dev/null", f"b/{rel}"))
    for rel in stale:
        if os.path.lexists(out / rel):
            result.removed.append(rel)
            if check:
                diffs.extend(difflib.unified_diff((_current(out / rel) or "").splitlines(keepends=True), [],
                                                  f"a/{rel}", "/dev/null"))
    if check:
        result.diff = "".join(d if d.endswith("\n") else d + "\n\\ No newline at end of file\n" for d in diffs)
        return result
    batch = {out / rel: wanted[rel] for rel in result.changed if rel != MANIFEST}
    if MANIFEST in result.changed:  # the manifest last: it lists what the others are
        batch[out / MANIFEST] = manifest_text
    write_files_atomic(batch)
    for rel in result.leftovers:  # temporary files of a killed run (never through a link: see above)
        try:
            os.unlink(out / rel)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise UserInputError(f"cannot remove a temporary file of an interrupted run: {e.strerror}",
                                 Location(str(out / rel), 1, 1), "check the folder's permissions") from None
    for rel in result.removed:
        try:
            (out / rel).unlink()
        except OSError as e:
            raise UserInputError(f"cannot remove a file of an earlier run: {e.strerror}", Location(str(out / rel)),
                                 "check the folder's permissions") from None
    return result


__all__ = ["GenerateResult", "MANIFEST", "TARGETS", "generate_project", "owned_folders", "parse_targets",
           "render_files", "self_check", "yaml_overlay"]
