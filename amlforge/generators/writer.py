"""The one place amlforge writes files: atomically (temp file + rename), never half-written."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError

# mkstemp creates files readable by their owner only; a written file gets the mode a plain
# open() would give it (0666 minus the umask), or keeps the mode of the file it replaces.
_UMASK = os.umask(0)
os.umask(_UMASK)


#: Flush file data to disk before the rename (the data, not timestamps: fdatasync where it exists).
_sync = getattr(os, "fdatasync", os.fsync)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    Raises:
        UserInputError: the folder does not exist or is not writable.
    """
    path = Path(path)
    if _is_special(path):  # /dev/null, /dev/stdout, a FIFO: write into it, never rename over it
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except OSError as e:
            raise UserInputError(f"cannot write here: {e.strerror}", Location(str(path)), "check the path") from None
        return
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise UserInputError(f"cannot write here: {e.strerror}", Location(str(path)), "check the folder") from None
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_UMASK
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            _sync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (a device, a FIFO, a socket)."""
    import stat

    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _staging_error(e: OSError, path: Path) -> UserInputError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT if hasattr(errno, "EDQUOT") else errno.ENOSPC):
        return UserInputError("cannot write: no space left on the device; nothing was changed", Location(str(path)),
                              "free some space and run again")
    if e.errno == errno.EFBIG:
        return UserInputError("cannot write: the file size limit was reached; nothing was changed",
                              Location(str(path)), "raise the file size limit (ulimit -f) and run again")
    if e.errno == errno.EISDIR:
        return UserInputError("cannot write: a folder is where a generated file goes; nothing was changed",
                              Location(str(path)), "move the folder away, or choose another output folder")
    return UserInputError(f"cannot write: {e.strerror or e}; nothing was changed", Location(str(path)),
                          "check the folder and its permissions")


def write_files_atomic(files: Mapping[Path, str]) -> None:
    """Write several files as one batch: all of them, or none.

    1. Every file is first written to a temporary file next to its target (``.NAME.XXXXXXXX.tmp``).
       A failure here (a full disk, the file size limit, a read-only folder) removes the
       temporary files and changes nothing.
    2. Then each target is replaced by a rename, after keeping its previous contents as a hard
       link (a copy where links are not possible). If a rename fails (a folder in the way, a
       disk error), the targets already replaced get their previous contents back (or are
       removed, if they were new), so the batch is never half applied.
    3. The kept previous contents and any leftover temporary file are removed.

    No reader and no crash of amlforge ever sees a half-written file; a killed run can leave
    temporary files behind, which the next ``amlforge generate`` removes (and ``--check``
    reports). The batch is not flushed to disk file by file: these are generated files,
    byte-identical for the same spec and cheap to write again (``amlforge generate --check``
    tells when they differ), and a flush per file cost ~0.4 ms each here (0.5 s for 100
    projects). Files are renamed in the order given, so callers put an index file (a manifest)
    last.

    Raises:
        UserInputError: a folder cannot be made or written, space or the file size limit ran
            out, or a folder stands where a file goes. Nothing was changed.
    """
    staged: list[tuple[str, Path]] = []
    made: set[Path] = set()  # one mkdir per folder, not per file
    try:
        for path, text in files.items():
            path = Path(path)
            folder = path.parent if str(path.parent) else Path(".")
            try:
                if folder not in made:
                    folder.mkdir(parents=True, exist_ok=True)
                    made.add(folder)
                if path.is_dir():
                    raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
            except OSError as e:
                raise _staging_error(e, path) from None
            staged.append((tmp, path))
            try:
                mode = os.stat(path).st_mode & 0o7777
            except OSError:
                mode = 0o666 & ~_UMASK
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                    os.fchmod(f.fileno(), mode)
                    f.write(text)
            except OSError as e:
                raise _staging_error(e, path) from None
        _commit(staged)
        staged = []
    finally:
        for tmp, _ in staged:
            _unlink(tmp)


def _commit(staged: list[tuple[str, Path]]) -> None:
    """Rename every staged file into place; on any failure put every target back as it was."""
    done: list[tuple[Path, str | None]] = []  # target, its previous contents kept aside (None: it was new)
    try:
        for tmp, path in staged:
            previous = _keep_previous(path)
            try:
                os.replace(tmp, path)
            except BaseException:
                if previous is not None:
                    _unlink(previous)
                raise
            done.append((path, previous))
    except BaseException as e:
        for path, previous in reversed(done):
            try:
                if previous is None:
                    os.unlink(path)
                else:
                    os.replace(previous, path)
            except OSError:  # pragma: no cover - the folder itself went away
                pass
        if isinstance(e, OSError):
            raise _staging_error(e, Path(e.filename) if e.filename else staged[0][1]) from None
        raise
    for _, previous in done:
        if previous is not None:
            _unlink(previous)


def _keep_previous(path: Path) -> str | None:
    """Keep the current contents of ``path`` under a temporary name (a hard link, else a copy);
    None when there is no such file."""
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return None
    except OSError:
        return None
    fd, keep = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(keep)
    try:
        os.link(path, keep)
    except OSError:
        shutil.copy2(path, keep)
    return keep


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


#: Names of the temporary files of :func:`write_files_atomic` (``mkstemp``: 8 random characters).
TEMP_NAME = LazyPattern(r"^\..+\.[A-Za-z0-9_]{8}\.tmp\Z")


def leftover_temp_files(folder: Path) -> list[Path]:
    """Temporary files a killed run of :func:`write_files_atomic` left below ``folder`` (not
    following symbolic links), sorted."""
    found: list[Path] = []
    if not os.path.isdir(folder) or os.path.islink(folder):
        return found
    for dirpath, dirnames, filenames in os.walk(folder):  # os.walk does not follow links by default
        found.extend(Path(dirpath, f) for f in filenames if TEMP_NAME.match(f))
    return sorted(found)


__all__ = ["TEMP_NAME", "leftover_temp_files", "write_atomic", "write_files_atomic"]
