"""The one exception root of amlforge.

Every error a user can cause derives from :class:`UserInputError` and is shown as one clear
message (with its file, line and column when there is one, and a hint) and exit code 2.
Anything else that escapes is a bug in amlforge.
"""

from __future__ import annotations

from dataclasses import dataclass


class AmlforgeError(Exception):
    """Root of all amlforge exceptions."""


@dataclass(frozen=True)
class Location:
    """A place in a file. ``line`` and ``column`` are 1-based; 0 means unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
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
