"""The one way amlforge reads a file the user controls: a regular file, bounded, never blocking.

Every reader of user files (az-ml YAML, specs, conda files, ``score.py``, ``MLmodel``,
``requirements.txt``, lock files, policy packs) goes through :func:`read_user_bytes`, so that a
FIFO named ``*.yml``, ``conda_file: /dev/zero`` or ``/dev/stdin``, a path part longer than the
file system allows, or a file of gigabytes is one clear, located error (exit 2) instead of a
hang, a crash or memory running out:

- the file is opened with ``O_NONBLOCK`` (opening a FIFO does not wait for a writer) and
  ``O_NOCTTY``, then checked with ``fstat`` on the open descriptor: only regular files are read
  (no race between a check and the open);
- at most ``max_bytes`` are read, whatever the file claims as its size;
- every ``OSError`` becomes a :class:`~amlforge.errors.UserInputError` at ``file:1:1``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from amlforge.errors import Location, UserInputError

#: Default cap on a user file: az-ml files are a few KB; anything this size is a mistake.
MAX_USER_FILE_BYTES = 5 * 1024 * 1024
#: Longest path part (bytes) on Linux and macOS file systems, and the longest whole path.
NAME_MAX = 255
PATH_MAX = 4096

#: Names of folders (and files) left out of every folder walk unless a configuration's
#: ``exclude`` replaces them (:mod:`amlforge.policies.settings`): ruff's default ``exclude``
#: (version control, virtual environments, installed packages, tool caches, build output),
#: plus what an Azure ML repository holds that is not its own: byte code, conda environments
#: created in the project (``.conda``) and the modules and providers ``terraform init``
#: downloads (``.terraform``). Other dot-folders are walked: az-ml files live in ``.github/``,
#: ``.azure/``, ``.azureml/``, ``.pipelines/`` (issue 13). Like ruff (since 0.3), ``build`` is
#: not excluded: it is a common name for real source folders (Docker build contexts).
DEFAULT_EXCLUDE = (
    # ruff's default exclude
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
    "__pypackages__", "_build", "buck-out", "dist", "node_modules", "site-packages", "venv",
    # amlforge's additions
    "__pycache__", ".conda", ".terraform",
)

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def path_problem(path: Path | str) -> str | None:
    """Why ``path`` cannot name a file on this system (a part over 255 bytes, ...), or None."""
    raw = os.fsencode(os.fspath(path))
    if len(raw) > PATH_MAX:
        return f"the path is {len(raw):,} bytes long, longer than the {PATH_MAX:,} bytes a path may have"
    if b"\0" in raw:
        return "the path contains a NUL character"
    for part in raw.split(b"/"):
        if len(part) > NAME_MAX:
            return f"a part of the path is {len(part):,} bytes long, longer than the {NAME_MAX} bytes a file name may have"
    return None


def _location(display: str) -> Location:
    return Location(display, 1, 1)


def _oserror(e: OSError, display: str, path: Path | str = "", nofollow: bool = False) -> UserInputError:
    where = _location(display)
    # a file that is not there (or cannot be opened at all) has no line to point at
    if e.errno == errno.ENOENT:
        if path and os.path.islink(path):
            return UserInputError(f"symbolic link to '{os.readlink(path)}', which does not exist",
                                  Location(display), "fix or remove the link")
        return UserInputError("no such file", Location(display), "check the path")
    if e.errno == errno.EISDIR:
        return UserInputError("is a directory, not a file", Location(display), "check the path")
    if e.errno in (errno.EACCES, errno.EPERM):
        return UserInputError("permission denied", Location(display), "make the file readable")
    if e.errno == errno.ENAMETOOLONG:
        return UserInputError("file name too long", where, "shorten the path: a file name may have at most 255 bytes")
    if e.errno == errno.ELOOP:
        if nofollow and path and os.path.islink(path):
            return UserInputError("is a symbolic link; amlforge does not read through symbolic links here",
                                  Location(display), "replace the link with the file itself")
        return UserInputError("symbolic link that loops (it leads back to itself)", Location(display),
                              "point the link at a real file, or remove it")
    if e.errno == errno.ENOTDIR:
        return UserInputError("a part of the path is a file, not a folder", where, "check the path")
    return UserInputError(f"cannot read file: {e.strerror or e}", where, "check the path")


def read_user_bytes(path: Path | str, display: str | None = None, max_bytes: int = MAX_USER_FILE_BYTES,
                    *, what: str = "configuration files", nofollow: bool = False) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Args:
        path: The file.
        display: How the file is named in messages (default: ``path``).
        max_bytes: The cap; a larger file is an error.
        what: What such files are, for the "too large" message.
        nofollow: Refuse a symbolic link (``O_NOFOLLOW``) instead of reading its target.

    Raises:
        UserInputError: missing, unreadable, not a regular file (a FIFO, a device, a socket, a
            folder), a path too long, or larger than ``max_bytes``. Located at ``display:1:1``.
    """
    display = display if display is not None else os.fspath(path)
    problem = path_problem(path)
    if problem is not None:
        raise UserInputError(problem, _location(display), "shorten the path: a file name may have at most 255 bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if nofollow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise _oserror(e, display, path, nofollow) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserInputError("is a directory, not a file", _location(display), "check the path")
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise UserInputError(f"is {kind}, not a regular file; amlforge reads only regular files",
                                 _location(display), "point at a regular file")
        too_large = UserInputError(
            f"file is larger than the {_size(max_bytes)} limit for {what}", _location(display),
            "pass the files themselves, not data or model files")
        if info.st_size > max_bytes:
            raise too_large
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files never block
                break
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # the file grew while we read it (or lied about its size)
                raise too_large
        return b"".join(chunks)
    except OSError as e:
        raise _oserror(e, display) from None
    finally:
        os.close(fd)


def read_user_text(path: Path | str, display: str | None = None, max_bytes: int = MAX_USER_FILE_BYTES,
                   *, errors: str = "strict", what: str = "configuration files") -> str:
    """:func:`read_user_bytes` decoded as UTF-8 (a BOM is dropped).

    With ``errors="strict"`` a file that is not UTF-8 is an error at the line and column of its
    first bad byte; ``"replace"`` reads it anyway.

    Raises:
        UserInputError: as :func:`read_user_bytes`, or not UTF-8 (strict only).
    """
    display = display if display is not None else os.fspath(path)
    raw = read_user_bytes(path, display, max_bytes, what=what)
    try:
        return raw.decode("utf-8-sig", errors)
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise UserInputError(f"file is not valid UTF-8 (byte 0x{raw[e.start]:02x})", Location(display, line, column),
                             "save the file as UTF-8") from None


def is_regular_file(path: Path | str) -> bool:
    """Whether ``path`` is a regular file (following symbolic links), without ever raising."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KiB"
    return f"{n} bytes"


__all__ = ["DEFAULT_EXCLUDE", "MAX_USER_FILE_BYTES", "is_regular_file", "path_problem", "read_user_bytes", "read_user_text"]
