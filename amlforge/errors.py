"""The one exception root of amlforge.

Every error a user can cause derives from :class:`UserInputError` and is shown as one clear
message (with its file, line and column when there is one, and a hint) and exit code 2.
Anything else that escapes is a bug in amlforge.
"""

from __future__ import annotations

from msgspec import Struct


class AmlforgeError(Exception):
    """Root of all amlforge exceptions."""


class Location(Struct, frozen=True):
    """A place in a file. ``line`` and ``column`` are 1-based; 0 means unknown.

    A file made of cells (a notebook) sets ``cell`` (1-based) and counts ``line`` inside that
    cell; ``file_line`` is then the line in the file itself, for viewers that know only files
    (SARIF, GitHub annotations).
    """

    file: str
    line: int = 0
    column: int = 0
    cell: int = 0
    file_line: int = 0

    @property
    def physical_line(self) -> int:
        """The line in the file itself (``file_line`` for a cell, else ``line``)."""
        return self.file_line if self.cell else self.line

    @property
    def cell_prefix(self) -> str:
        """``"cell N, line L: "`` for a position in a cell (put before messages shown at
        ``physical_line``), else empty."""
        return f"cell {self.cell}, line {self.line}: " if self.cell else ""

    def __str__(self) -> str:
        if self.cell:
            return f"{self.file}:cell {self.cell}:{self.line or 1}:{self.column or 1}"
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


class UserInputError(AmlforgeError):
    """Bad input from the user: a missing file, unreadable YAML, a bad option. Exit code 2.

    Args:
        message: What is wrong, about this instance.
        location: Where, when known.
        hint: An imperative sentence that says how to fix it.
    """

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


__all__ = ["AmlforgeError", "Location", "UserInputError"]
