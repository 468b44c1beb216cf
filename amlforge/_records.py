"""Helpers for the records amlforge passes around (msgspec Structs)."""

from __future__ import annotations

from typing import Any


class EqualByKey:
    """Equality and hash by ``_key()``: for a Struct with fields that do not count (what
    ``field(compare=False)`` said of a dataclass). List it before ``Struct`` in the bases."""

    __slots__ = ()

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())


__all__ = ["EqualByKey"]
