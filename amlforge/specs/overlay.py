"""Files that exist only in memory, linted as if they were on disk.

``amlforge generate`` lints the az-ml YAML it is about to write before it writes anything.
Rather than staging that output in a temporary folder (rendered a second time for that
folder, written, linted and removed: a third of the self-check's time on a slow disk), it
hands the loader an :class:`Overlay`: the rendered files at the paths they will have.

An overlay *owns* a set of folders (``azureml/`` and ``docker/`` of the output folder): below
them, only the overlay's files exist, whatever is on disk now, because that is what the folder
will hold once the run has written its files and removed those of an earlier run. Paths
outside those folders (the code, conda files and models the YAML refers to) are read from disk.

An overlay can also own single files (``owns`` names the files themselves): ``amlforge lint
--fix`` lints the text its fixes produced before writing anything, and ``amlforge server``
lints the documents open in the editor over the saved state of the others. An overlay may sit
on a ``base`` overlay, which answers for the paths it does not own (the in-memory rendering of
an ``amlforge.yaml`` on top of the editor's documents).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path


def _key(path: Path | str) -> str:
    return os.path.normpath(os.path.abspath(path))


class Overlay:
    """In-memory files below the folders (or at the file paths) they own.

    Args:
        files: Path -> text. Relative paths are taken from the working directory.
        owns: Folders (or files) the overlay replaces; each file must sit at or below one.
        base: An overlay that answers for the paths this one does not own.

    Raises:
        ValueError: a file outside every owned folder.
    """

    def __init__(self, files: Mapping[Path | str, str], owns: Iterable[Path | str], base: Overlay | None = None) -> None:
        self._roots = tuple(sorted({_key(r) for r in owns}))
        self._files = {_key(p): text for p, text in files.items()}
        self._dirs: set[str] = set()
        self.base = base
        for path in self._files:
            if not self._owns(path):
                raise ValueError(f"{path} is outside the overlay's folders")
            parent = os.path.dirname(path)
            while parent not in self._dirs and self._owns(parent):
                self._dirs.add(parent)
                parent = os.path.dirname(parent)

    @classmethod
    def of_files(cls, files: Mapping[Path | str, str], base: Overlay | None = None) -> Overlay:
        """An overlay that owns exactly ``files`` (every other path is read from disk or ``base``)."""
        return cls(files, list(files), base)

    def on(self, base: Overlay | None) -> Overlay:
        """This overlay's files on top of ``base`` (itself when ``base`` is None)."""
        if base is None:
            return self
        return Overlay(self._files, self._roots, base if self.base is None else self.base.on(base))

    def _owns(self, key: str) -> bool:
        return any(key == root or key.startswith(root + os.sep) for root in self._roots)

    def covers(self, path: Path | str) -> bool:
        """Whether ``path`` is one of the owned folders or files or below one (here or in the base)."""
        key = _key(path)
        return self._owns(key) or (self.base is not None and self.base.covers(key))

    def text(self, path: Path | str) -> str | None:
        """The text of an overlay file, or None."""
        key = _key(path)
        if self._owns(key):
            return self._files.get(key)
        return self.base.text(key) if self.base is not None else None

    def exists(self, path: Path | str) -> bool:
        """Whether ``path`` is an overlay file or a folder that holds one (or an owned folder)."""
        key = _key(path)
        if self._owns(key):
            return key in self._files or key in self._dirs or key in self._roots
        return self.base.exists(key) if self.base is not None else False

    def is_dir(self, path: Path | str) -> bool:
        """Whether ``path`` is a folder of the overlay."""
        key = _key(path)
        if self._owns(key):
            return key in self._dirs or (key in self._roots and key not in self._files)
        return self.base.is_dir(key) if self.base is not None else False

    def files_under(self, folder: Path | str) -> list[Path]:
        """Overlay files below ``folder``, sorted."""
        key = _key(folder)
        mine = {p for p in self._files if p.startswith(key + os.sep)}
        if self.base is not None:
            mine |= {str(p) for p in self.base.files_under(key) if not self._owns(str(p))}
        return sorted(Path(p) for p in mine)


__all__ = ["Overlay"]
