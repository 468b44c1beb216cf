"""Shared base for spec models: strict, frozen, every field described."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

SCHEMA_FIELD = Field(
    default=None,
    alias="$schema",
    description="URL of the az-ml JSON schema this file follows; editors use it, the service ignores it.",
)


class SpecModel(BaseModel):
    """Base of every spec model.

    Unknown keys are errors (``extra="forbid"``), models are immutable, and schema building is
    deferred to first use so that importing the package stays cheap.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        populate_by_name=True,
        validate_default=False,
        str_strip_whitespace=False,
    )


#: Longest value the enum normaliser looks at: the longest az-ml enum value has 20 characters.
_MAX_ENUM_CHARS = 64


def camel_to_snake(value: str) -> str:
    """``AMLToken`` -> ``aml_token``, ``SystemAssigned`` -> ``system_assigned`` (as azure-ai-ml).

    One pass over the characters (linear time): an underscore goes before an upper-case letter
    that follows a lower-case letter or digit, or that ends a run of capitals and starts a word
    (``AMLToken``: before the ``T``). This is what azure-ai-ml's two regular expressions do,
    without their quadratic backtracking on long runs of capitals.
    """
    out: list[str] = []
    n = len(value)
    for i, ch in enumerate(value):
        if i and ch.isupper() and ch.isascii():
            prev = value[i - 1]
            if (prev.isascii() and (prev.islower() or prev.isdigit())) or (
                    prev.isupper() and prev.isascii() and i + 1 < n and value[i + 1].islower()
                    and value[i + 1].isascii()):
                out.append("_")
        out.append(ch)
    return "".join(out).replace("-", "_").lower()


def lenient_enum(allowed: Iterable[str]) -> Callable[[Any], Any]:
    """Accept enum values in any casing the az CLI accepts (``Key``, ``AMLToken``, ``key``)."""
    canonical = {a: a for a in allowed}
    canonical.update({a.replace("_", ""): a for a in allowed})

    def normalise(value: Any) -> Any:
        if isinstance(value, str) and len(value) <= _MAX_ENUM_CHARS:
            snake = camel_to_snake(value)
            return canonical.get(snake, canonical.get(snake.replace("_", ""), value))
        return value

    return normalise


def enum_field(*allowed: str) -> Any:
    """Annotated validator that normalises the casing of an az-ml enum before validation."""
    return BeforeValidator(lenient_enum(allowed))


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


#: A mapping value the az CLI sends as a string (environment variables, tags, properties).
ScalarStr = Annotated[str, BeforeValidator(_scalar_to_str)]

__all__ = ["SCHEMA_FIELD", "ScalarStr", "SpecModel", "camel_to_snake", "enum_field", "lenient_enum"]
