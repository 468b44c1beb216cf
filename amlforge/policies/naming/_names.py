"""Name rules shared by endpoint and deployment names."""

from __future__ import annotations

from amlforge._regex import LazyPattern

NAME_RE = LazyPattern(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?\Z")


def name_problem(name: str) -> str | None:
    """What is wrong with an endpoint or deployment name, or ``None``."""
    if not 3 <= len(name) <= 32:
        return f"is {len(name)} characters long; it must be 3 to 32"
    if not name[0].isalpha() or not name[0].isascii():
        return "must start with a letter"
    if not NAME_RE.match(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))})
        if bad:
            return f"contains {', '.join(repr(c) for c in bad)}; only letters, digits and dashes are allowed"
        return "must end with a letter or digit"
    if "--" in name:
        return "has consecutive dashes; the docs allow single dashes only"
    return None
