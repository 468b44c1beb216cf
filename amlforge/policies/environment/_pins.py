"""Whether one conda or pip dependency names exactly one version (shared by AML401, AML402, AML412)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from amlforge._regex import LazyPattern
from amlforge.policies.environment._helpers import SERVER_MANAGED, python_minor

if TYPE_CHECKING:
    from amlforge.specs.conda import Dependency

_VCS = LazyPattern(r"(?:^|@\s*)(?:git|hg|svn|bzr)\+", re.IGNORECASE)
_COMMIT = LazyPattern(r"[0-9a-fA-F]{7,40}")
_HASH = LazyPattern(r"(?:sha256|sha384|sha512|md5)=", re.IGNORECASE)


def conda_pin_problem(dep: Dependency, *, python_patch: bool = False) -> tuple[str, str] | None:
    """(message, hint) when a conda-section dependency is not pinned to one version."""
    if dep.pinned:
        return None
    minor = python_minor(dep) if dep.name == "python" else None
    if minor is not None and not python_patch:
        return None
    if dep.name == "pip" and re.fullmatch(r"=?\s*\d{2}\.\d+", dep.spec.strip()):
        return None  # pip versions are YY.N; its rare YY.N.P releases only fix bugs
    written = dep.raw.strip()
    if not dep.spec:
        message = f"conda dependency '{written}' has no version"
    elif minor is not None:
        message = f"'{written}' pins only the minor version of python (the python_pin option asks for the patch)"
    else:
        message = f"conda dependency '{written}' allows more than one version"
    return message, f"pin the version you tested, as '{dep.name}=X.Y.Z'"


def pip_pin_problem(dep: Dependency, *, server: bool = False) -> tuple[str, str] | None:
    """(message, hint) when a pip requirement is not pinned with ``==`` (or a VCS/URL one is not fixed).

    Args:
        dep: A dependency of the ``pip:`` section.
        server: The conda file installs the inference server, which pins Flask and friends itself.
    """
    if dep.pinned:
        return None
    written = dep.raw.strip()
    if _VCS.search(written):
        ref = vcs_revision(written)
        if _COMMIT.fullmatch(ref):
            return None
        if ref:
            message = f"VCS requirement '{written}' follows '@{ref}', a branch or tag, not a commit"
        else:
            message = f"VCS requirement '{written}' names no revision, so it installs whatever the default branch is"
        return message, "end the URL with @<full commit hash>"
    if "://" in written:
        url, _, fragment = written.partition("#")
        if url.split("?", 1)[0].endswith(".whl") or _HASH.search(fragment):
            return None
        return (f"URL requirement '{written}' is not fixed by a version or a hash",
                "point at a wheel file, or add #sha256=<hash> to the URL")
    if "/" in dep.name or written.startswith((".", "/")):
        return None  # a local path
    if server and dep.name in SERVER_MANAGED:
        return None  # AML405: the server pins these itself
    if not dep.spec:
        message = f"pip requirement '{written}' has no version"
    else:
        message = f"pip requirement '{written}' allows more than one version"
    return message, f"pin the version you tested, as '{dep.name}==X.Y.Z'"


def vcs_revision(requirement: str) -> str:
    """The ``@revision`` of a VCS URL ('' when none): after the host, before any ``#fragment``."""
    url = requirement.split(" @ ", 1)[1] if " @ " in requirement else requirement
    url = url.split("#", 1)[0].strip()
    _, _, rest = url.partition("://")
    _, _, path = rest.partition("/")  # drop the host (and a user@ in it)
    return path.rsplit("@", 1)[1].strip() if "@" in path else ""
