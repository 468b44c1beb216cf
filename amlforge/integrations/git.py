"""git, behind one small module: find the repository, resolve a reference, export a tree, list renames.

Everything runs ``git`` through :mod:`subprocess` with read-only commands (``rev-parse``,
``archive``, ``diff``): amlforge never changes the user's repository, index or worktrees. A
reference is exported with ``git archive`` and unpacked into a folder the caller owns.

Errors the user can fix (no git, not a repository, an unknown reference, a shallow clone) are
:class:`~amlforge.errors.UserInputError` (exit code 2) with a hint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from amlforge.errors import Location, UserInputError

#: Seconds any one git command may take.
TIMEOUT = 300


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS`` in ``cwd`` and return the completed process (text output).

    Raises:
        UserInputError: git is not installed, or (with ``check``) the command failed.
    """
    exe = shutil.which("git")
    if exe is None:
        raise UserInputError("git is not installed (needed by amlforge review)", None,
                             "install git, or run amlforge lint instead")
    try:
        proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=_env(),
                              check=False)
    except subprocess.TimeoutExpired:
        raise UserInputError(f"git {args[0]} took longer than {TIMEOUT} s", Location(str(cwd)),
                             "check the repository, or review fewer paths") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise UserInputError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}",
                             Location(str(cwd)), "run the same git command to see why")
    return proc


def toplevel(path: Path) -> Path:
    """The root of the git work tree that holds ``path``.

    Raises:
        UserInputError: ``path`` is not inside a git work tree.
    """
    folder = path if path.is_dir() else path.parent
    proc = run(["rev-parse", "--show-toplevel"], folder, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise UserInputError("not a git repository (or any parent up to the file system root)",
                             Location(str(path)),
                             "run amlforge review inside a git checkout, or use amlforge lint")
    return Path(os.path.realpath(proc.stdout.strip()))


def resolve(ref: str, repo: Path) -> str:
    """The commit id ``ref`` names (a branch, tag, ``origin/main``, ``HEAD~1``, a sha).

    Raises:
        UserInputError: ``ref`` names no commit.
    """
    if not ref.strip() or ref.startswith("-"):
        raise UserInputError(f"'{ref}' is not a git reference", None, "pass a branch, tag or commit: --base main")
    proc = run(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        shallow = run(["rev-parse", "--is-shallow-repository"], repo, check=False).stdout.strip() == "true"
        hint = (f"fetch it first (git fetch origin {ref}), or name it as the remote has it (origin/{ref})")
        if shallow:
            hint = ("this is a shallow clone: fetch the base (git fetch --depth=1 origin " + ref
                    + "), or check out with full history (actions/checkout: fetch-depth: 0)")
        raise UserInputError(f"unknown git reference '{ref}'", Location(str(repo)), hint)
    return proc.stdout.strip()


def export(commit: str, repo: Path, dest: Path, pathspecs: list[str]) -> bool:
    """Unpack the files of ``commit`` under ``pathspecs`` (repository-relative; ``.`` for all) into ``dest``.

    Returns False when the pathspecs match nothing at that commit (the folder did not exist yet).

    Raises:
        UserInputError: git failed for another reason.
    """
    exe = shutil.which("git")
    if exe is None:  # pragma: no cover - toplevel() already failed
        raise UserInputError("git is not installed", None, "install git")
    dest.mkdir(parents=True, exist_ok=True)
    existing = [p for p in pathspecs if p == "." or _exists_at(commit, repo, p)]
    if not existing:
        return False
    args = [exe, "archive", "--format=tar", commit, "--", *existing]
    with subprocess.Popen(args, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(dest, filter=_safe_member)
            else:  # pragma: no cover - Python without the extraction filters
                for member in archive:
                    target = os.path.realpath(dest / member.name)
                    if not target.startswith(os.path.realpath(dest) + os.sep) or member.issym() or member.islnk():
                        continue
                    archive.extract(member, dest)
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        code = proc.wait(TIMEOUT)
    if code != 0:
        raise UserInputError(f"git archive failed: {stderr.strip().splitlines()[-1] if stderr.strip() else code}",
                             Location(str(repo)), "run git archive yourself to see why")
    return True


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """The ``data`` extraction filter, except that a member it refuses (an absolute symbolic
    link, a link leaving the tree, a device) is skipped instead of ending the export: the base
    commit may hold such links, and the review lints the files, not the links."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def _exists_at(commit: str, repo: Path, path: str) -> bool:
    return run(["cat-file", "-e", f"{commit}:{path}"], repo, check=False).returncode == 0


def renames(commit: str, repo: Path, pathspecs: list[str]) -> dict[str, str]:
    """Files renamed between ``commit`` and the work tree: old repository path -> new one."""
    proc = run(["diff", "--no-ext-diff", "--no-color", "--name-status", "-M", "-z", commit, "--", *pathspecs],
               repo, check=False)
    if proc.returncode != 0:
        return {}
    parts = proc.stdout.split("\0")
    out: dict[str, str] = {}
    i = 0
    while i < len(parts):
        status = parts[i]
        if status.startswith(("R", "C")) and i + 2 < len(parts):
            if status.startswith("R"):
                out[parts[i + 1]] = parts[i + 2]
            i += 3
        elif status:
            i += 2
        else:
            i += 1
    return out


__all__ = ["export", "renames", "resolve", "run", "toplevel"]
