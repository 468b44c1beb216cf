"""Exceptions of the conda-lock integration.

All derive from :class:`amlforge.errors.AmlforgeError`; the CLI shows each as one cause
line (with file, line and column when known) and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from amlforge.errors import AmlforgeError, Location, UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from amlforge.integrations.condalock.condafile import Requirement


class LockError(AmlforgeError):
    """Locking failed (conda-lock or its solver reported an error). Exit code 2.

    Args:
        message: One-line cause.
        location: Where in the conda file, when known.
        hint: How to fix it.
        details: Longer solver output (multi-line), shown indented under the message.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        hint: str = "",
        details: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class UnsolvableEnvironmentError(LockError):
    """The environment's requirements cannot be satisfied together.

    The same environment would fail the Azure ML image build (ImageBuildFailure).

    Attributes:
        platform: Platform the solve failed for.
        conflicts: The conda file's requirements named in the solver's explanation.
        manager: ``"conda"`` or ``"pip"``: which half of the environment failed.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        conflicts: Sequence[Requirement] = (),
        manager: Literal["conda", "pip"] = "conda",
        location: Location | None = None,
        hint: str = "",
        details: str = "",
    ) -> None:
        super().__init__(message, location, hint, details)
        self.platform = platform
        self.conflicts = tuple(conflicts)
        self.manager = manager


class IndexUnreachableError(LockError):
    """A conda channel or the PyPI index could not be reached (network, DNS, refused)."""


class CondaFileError(UserInputError):
    """The conda file is malformed (bad YAML, no ``dependencies`` list, bad entries)."""


class ChannelNotFoundError(UserInputError):
    """A channel of the environment does not exist (no ``noarch/repodata.json``)."""


class SolverNotFoundError(UserInputError):
    """The requested conda solver executable does not exist or is not executable."""
