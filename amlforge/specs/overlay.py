"""Files that exist only in memory, linted as if they were on disk.

``amlforge generate`` lints the az-ml YAML it is about to write before it writes anything.
Rather than staging that output in a temporary folder (rendered a second time for that
folder, written, linted and removed: a third of the self-check's time on a slow disk), it
hands the loader an :class:`Overlay`: the rendered files at the paths they will have.

An overlay *owns* a set of folders (``azureml/`` and ``docker/`` of the output folder): below
them, only the overlay's files exist, whatever is on disk now, because that is what the folder
will hold once the run has written its files and removed those of an earlier run. Paths
outside those folders (the code, conda files and models the YAML refers to) are read from disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path


def _key(path: Path | str) -> str:
    return os.path.normpath(os.path.abspath(path))


class Overlay:
    """In-memory files below the folders they own.

    Args:
        files: Path -> text. Relative paths are taken from the working directory.
        owns: Folders the overlay replaces; each file must sit below one of them.

    Raises:
        ValueError: a file outside every owned folder.
    """

    def __init__(self, files: Mapping[Path | str, str], owns: Iterable[Path | str]) -> None:
        self._roots = tuple(sorted({_key(r) for r in owns}))
        self._files = {_key(p): text for p, text in files.items()}
        self._dirs: set[str] = set()
        for path in self._files:
            if not self.covers(path):
                raise ValueError(f"{path} is outside the overlay's folders")
            parent = os.path.dirname(path)
            while parent not in self._dirs and self.covers(parent):
                self._dirs.add(parent)
                parent = os.path.dirname(parent)

    def covers(self, path: Path | str) -> bool:
        """Whether ``path`` is one of the owned folders or below one."""
        key = _key(path)
        return any(key == root or key.startswith(root + os.sep) for root in self._roots)

    def text(self, path: Path | str) -> str | None:
        """The text of an overlay file, or None."""
        return self._files.get(_key(path))

    def exists(self, path: Path | str) -> bool:
        """Whether ``path`` is an overlay file or a folder that holds one (or an owned folder)."""
        key = _key(path)
        return key in self._files or key in self._dirs or key in self._roots

    def is_dir(self, path: Path | str) -> bool:
        """Whether ``path`` is a folder of the overlay."""
        key = _key(path)
        return key in self._dirs or key in self._roots

    def files_under(self, folder: Path | str) -> list[Path]:
        """Overlay files below ``folder``, sorted."""
        key = _key(folder)
        return sorted(Path(p) for p in self._files if p.startswith(key + os.sep))


__all__ = ["Overlay"]
