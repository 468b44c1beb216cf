"""Apply the fixes of a lint run: the library behind ``amlforge lint --fix``, ``--diff`` and stdin.

The fixes are applied in memory, pass after pass: lint (with the text fixed so far as an
in-memory overlay over the disk), apply every fix that does not overlap another one, lint
again, until a pass has nothing left to fix or :data:`MAX_PASSES` is reached. Only then are
the files written (atomically), or a diff printed. A pass lints exactly what the next write
would hold, so the edits of one pass always apply to the text they were computed on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError
from amlforge.policies.engine import LintReport, lint_paths
from amlforge.policies.registry import Finding
from amlforge.specs.edits import Fix, apply_fixes
from amlforge.specs.overlay import Overlay

#: Passes of lint + fix before giving up on fixes that keep producing new ones.
MAX_PASSES = 10

_BOM = "\ufeff"


class FixedFile(Struct):
    """One file the fixes changed: its path, display name, text before and after."""

    path: Path
    display: str
    before: str
    after: str
    bom: bool = False
    fixes: int = 0

    def diff(self) -> str:
        """A unified diff of the change, with the display path as its header."""
        out = []
        import difflib  # here: ~1 ms of start-up, used only to suggest or show a diff
        for line in difflib.unified_diff(self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                                         fromfile=f"a/{self.display}", tofile=f"b/{self.display}"):
            out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
        return "".join(out)


class FixRun(Struct):
    """The outcome of :func:`fix_paths`.

    Attributes:
        report: The lint report of the fixed text (the findings left).
        files: The files the fixes changed, by absolute path.
        applied: How many fixes were applied.
        passes: How many lint passes ran.
        converged: False when :data:`MAX_PASSES` ran out with fixes still to apply.
    """

    report: LintReport
    files: dict[Path, FixedFile] = field(default_factory=dict)
    applied: int = 0
    passes: int = 0
    converged: bool = True

    def diff(self) -> str:
        return "".join(f.diff() for _, f in sorted(self.files.items()))

    def write(self) -> None:
        """Write every changed file atomically (through symbolic links, keeping a BOM)."""
        from amlforge.generators.writer import write_atomic

        for path, f in sorted(self.files.items()):
            write_atomic(Path(os.path.realpath(path)), (_BOM if f.bom else "") + f.after)


def wanted(finding: Finding, unsafe: bool) -> bool:
    """Whether ``finding`` has a fix this run applies."""
    return finding.fix is not None and (finding.fix.safe or unsafe)


def fix_counts(findings: Sequence[Finding], unsafe: bool) -> tuple[int, int]:
    """(fixable with this run's options, fixable only with --unsafe-fixes)."""
    fixable = sum(1 for f in findings if wanted(f, unsafe))
    hidden = sum(1 for f in findings if f.fix is not None and not wanted(f, unsafe))
    return fixable, hidden


def fix_paths(paths: Sequence[Path | str], *, unsafe: bool = False, max_passes: int = MAX_PASSES,
              stdin: tuple[Path, str] | None = None, **options: Any) -> FixRun:
    """Lint ``paths`` and apply the safe (and with ``unsafe`` the unsafe) fixes in memory.

    Args:
        paths: As for :func:`~amlforge.policies.engine.lint_paths`.
        unsafe: Apply unsafe fixes too.
        max_passes: Lint passes at most.
        stdin: ``(path, text)``: the text of ``path`` comes from standard input, not the disk.
        **options: The keyword options of :func:`~amlforge.policies.engine.configure`.

    Nothing is written; call :meth:`FixRun.write`, or print :meth:`FixRun.diff`.
    """
    base = Overlay.of_files({stdin[0]: stdin[1]}) if stdin is not None else options.pop("overlay", None)
    files: dict[Path, FixedFile] = {}
    run = FixRun(report=None)  # type: ignore[arg-type]
    for number in range(1, max_passes + 2):
        current = {p: f.after for p, f in files.items()}
        overlay = Overlay.of_files(current).on(base) if current else base
        report = lint_paths(paths, overlay=overlay, **options)
        run.report, run.passes = report, number
        todo = [f.fix for f in report.findings if wanted(f, unsafe)]
        if not todo:
            break
        if number > max_passes:
            run.converged = False
            break
        by_file: dict[str, list[Fix]] = {}
        for fix in todo:
            if len(fix.files) == 1:
                by_file.setdefault(next(iter(fix.files)), []).append(fix)
        progress = 0
        for display, fixes in sorted(by_file.items()):
            path = Path(os.path.abspath(display))
            entry = files.get(path)
            if entry is None:
                entry = _original(path, display, base)
                if entry is None:
                    continue
            text, applied = apply_fixes(entry.after, _unique(fixes), display)
            if applied and text != entry.after:
                entry.after = text
                entry.fixes += len(applied)
                files[path] = entry
                progress += len(applied)
        run.applied += progress
        if not progress:
            break
    run.files = {p: f for p, f in files.items() if f.after != f.before}
    return run


def _unique(fixes: list[Fix]) -> list[Fix]:
    return list(dict.fromkeys(fixes))


def _original(path: Path, display: str, base: Overlay | None) -> FixedFile | None:
    """The text a fix edits: from the base overlay (stdin) or the disk, without its BOM."""
    in_memory = base.text(path) if base is not None else None
    if in_memory is not None:
        bom = in_memory.startswith(_BOM)
        text = in_memory[1:] if bom else in_memory
        return FixedFile(path, display, text, text, bom)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UserInputError(f"cannot read the file to fix it: {e.strerror}", Location(display),
                             "check that the file is readable") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # the loader reported it (AML001); nothing here has a fix
    bom = text.startswith(_BOM)
    text = text[1:] if bom else text
    return FixedFile(path, display, text, text, bom)


__all__ = ["FixRun", "FixedFile", "MAX_PASSES", "fix_counts", "fix_paths", "wanted"]
