"""Running conda-lock: settings, the streaming subprocess, and failure diagnosis."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from amlforge._regex import LazyPattern
from amlforge.errors import AmlforgeError, Location
from amlforge.integrations.condalock._common import (
    POETRY_URL_VAR,
    primary_platform,
    redact_url,
)
from amlforge.integrations.condalock.condafile import CondaFile, Requirement
from amlforge.integrations.condalock.errors import (
    ChannelNotFoundError,
    CondaFileError,
    IndexUnreachableError,
    LockError,
    SolverNotFoundError,
    UnsolvableEnvironmentError,
)

__all__ = ["classify_failure", "pip_index_url", "preflight_channels", "run_streaming"]

_HEARTBEAT_SECONDS = 5.0


def pip_index_url() -> str:
    """The PyPI index pip is configured to use (simple API URL).

    Order: ``$PIP_INDEX_URL``, pip's configuration files (``install.index-url`` then
    ``global.index-url``), then pip's default (``https://pypi.org/simple``).
    """
    env = os.environ.get("PIP_INDEX_URL", "").split()
    if env:
        return env[0]
    try:
        from pip._internal.configuration import Configuration, ConfigurationError

        config = Configuration(isolated=False)
        config.load()
        for key in ("install.index-url", "global.index-url"):
            try:
                value = str(config.get_value(key)).split()
            except ConfigurationError:
                continue
            if value:
                return value[0]
    except Exception:  # noqa: BLE001 - pip absent or its private API moved
        pass
    try:
        from pip._internal.models.index import PyPI

        return str(PyPI.simple_url)
    except Exception:  # noqa: BLE001
        return "https://pypi.org/simple"


def _local_channel_dir(channel: str) -> Path | None:
    expanded = os.path.expandvars(channel)
    if expanded.startswith("file://"):
        return Path(unquote(urlparse(expanded).path))
    if os.path.isabs(expanded):
        return Path(expanded)
    return None


def preflight_channels(env: CondaFile, overrides: Sequence[str] | None) -> list[str]:
    """Check the effective channels; local ones must exist. Returns them."""
    channels = list(overrides) if overrides else list(env.channels)
    if not [c for c in channels if c != "nodefaults"]:
        raise CondaFileError(
            "no channels to lock from", env.location(),
            "add a 'channels:' list (e.g. conda-forge) to the conda file",
        )
    for channel in channels:
        directory = _local_channel_dir(channel)
        if directory is not None and not (directory / "noarch" / "repodata.json").is_file():
            where = " (from --channel)" if overrides else ""
            raise ChannelNotFoundError(
                f"channel {channel}{where} not found: "
                f"{directory / 'noarch' / 'repodata.json'} does not exist",
                env.location() if overrides else env.channel_location(channel),
                "fix the channel URL, or index the channel (it needs noarch/repodata.json)",
            )
    return channels


def run_streaming(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float | None,
    on_line: Callable[[str], None],
    on_idle: Callable[[float], None],
) -> tuple[int | None, list[str]]:
    """Run ``cmd``, feeding each output line to ``on_line`` and ``on_idle`` when quiet.

    Returns ``(exit status or None on timeout, all output lines)``.
    """
    lines: list[str] = []
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        encoding="utf-8", errors="replace", bufsize=1, start_new_session=True,
    )
    q: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            q.put(raw.rstrip("\n"))
        q.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    start = time.monotonic()
    last = start
    try:
        while True:
            remaining = None if timeout is None else timeout - (time.monotonic() - start)
            if remaining is not None and remaining <= 0:
                _kill_group(proc)
                return None, lines
            wait = _HEARTBEAT_SECONDS if remaining is None else min(_HEARTBEAT_SECONDS, remaining)
            try:
                item = q.get(timeout=wait)
            except queue.Empty:
                now = time.monotonic()
                if now - last >= _HEARTBEAT_SECONDS:
                    on_idle(now - start)
                    last = now
                continue
            if item is None:
                break
            lines.append(item)
            on_line(item)
            last = time.monotonic()
        return proc.wait(), lines
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        reader.join(timeout=5)
        if proc.stdout:
            proc.stdout.close()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill conda-lock and the solver processes it started (its own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # pragma: no cover
        proc.kill()
    proc.wait()


_NETWORK = LazyPattern(
    r"dns error|error sending request|client error \(Connect\)|connection refused|"
    r"Max retries exceeded|NameResolutionError|NewConnectionError|timed out|"
    r"Temporary failure in name resolution|Network is unreachable|ConnectTimeout",
    re.IGNORECASE,
)
_NOT_FOUND = LazyPattern(r"could not find subdir|404 Not Found|\b404\b|does not exist",
                        re.IGNORECASE)
_BAD_SPEC = LazyPattern(r"Invalid(?:MatchSpec|VersionSpec|Version|PackageName)Error|"
                       r"InvalidSpec|Can't parse conda spec")
_PLATFORM_FAIL = LazyPattern(r"Could not lock the environment for platform (\S+?):?$")
_EXC_LINE = LazyPattern(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Exit)): (.*)$")


def _mentions(text: str, name: str) -> bool:
    pattern = r"(?<![A-Za-z0-9_.\-])" + re.escape(name) + r"(?![A-Za-z0-9_\-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _solver_block(lines: Sequence[str]) -> tuple[str, str] | None:
    """``(platform, solver message)`` from conda-lock's "Could not lock ..." report."""
    for i, line in enumerate(lines):
        m = _PLATFORM_FAIL.search(line.strip())
        if not m:
            continue
        block: list[str] = []
        for nxt in lines[i + 1:]:
            if nxt.startswith("    Command:") or nxt.startswith("Traceback"):
                break
            block.append(nxt)
        message = "\n".join(block).strip()
        if message:
            return m.group(1), message
    for line in reversed(lines):  # update path: RuntimeError: Could not lock ...: msg
        m = re.search(r"Could not lock the environment for platform (\S+?): (.*)", line)
        if m:
            return m.group(1), m.group(2)
    return None


def _without_tracebacks(lines: Sequence[str]) -> list[str]:
    """Output lines with Python traceback frames removed (the final error line stays)."""
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            skipping = True
            continue
        if skipping:
            if line and not line[0].isspace() and _EXC_LINE.match(line):
                skipping = False
                out.append(line)
            continue
        if line.startswith("During handling of the above exception") or \
                line.startswith("The above exception was the direct cause"):
            continue
        out.append(line)
    return out


def _last_exception(lines: Sequence[str]) -> tuple[str, str] | None:
    for line in reversed(lines):
        m = _EXC_LINE.match(line.strip())
        if m:
            return m.group(1), m.group(2)
    return None


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _conflicts(env: CondaFile, text: str, manager: str | None = None) -> list[Requirement]:
    return [r for r in env.requirements
            if (manager is None or r.manager == manager) and _mentions(text, r.name)]


def _unsolvable(env: CondaFile, platform: str, manager: Literal["conda", "pip"],
                explanation: str) -> UnsolvableEnvironmentError:
    conflicts = _conflicts(env, explanation, manager) or _conflicts(env, explanation)
    part = "the pip: section" if manager == "pip" else "the environment"
    if len(conflicts) > 1:
        named = "conflicting requirements " + ", ".join(
            f"{r.spec} ({r.where})" for r in conflicts)
    elif conflicts:
        named = f"requirement {conflicts[0].spec} ({conflicts[0].where}) cannot be satisfied"
    else:
        named = _first_line(explanation)
    return UnsolvableEnvironmentError(
        f"cannot solve {part} for {platform}: {named}; an Azure ML image built from this "
        "conda file would fail with ImageBuildFailure",
        platform=platform, conflicts=conflicts, manager=manager,
        location=env.requirement_location(conflicts[0] if conflicts else None),
        hint="relax or change one of these requirements, then run `amlforge lock` again",
        details=explanation,
    )


def _failing_channel(env: CondaFile, message: str,
                     channels: Sequence[str]) -> tuple[str, Location]:
    """The channel (as written) a gateway error is about, and where it is written."""
    for channel in channels:
        expanded = os.path.expandvars(channel).rstrip("/")
        probes = [expanded]
        if "://" not in expanded:
            probes.append(f"/{expanded}/")
        if expanded.startswith("file://"):
            probes.append(unquote(urlparse(expanded).path))
        if any(p and p in message for p in probes):
            return channel, env.channel_location(channel)
    url = re.search(r"[a-z]+://[^\s)'`]+", message)
    return (url.group(0) if url else "(unknown)"), env.location()


def _bad_requirement(env: CondaFile, message: str) -> Requirement | None:
    """The conda requirement an invalid-spec error is about, if it can be told."""
    tokens = [t.removesuffix(".*") for t in re.findall(r"'([^']+)'", message)]
    for req in env.conda_requirements:
        compact = re.sub(r"\s+", "", req.spec)
        if any(t and t.replace(" ", "") in compact for t in tokens):
            return req
    return None


def classify_failure(env: CondaFile, lines: Sequence[str], platforms: Sequence[str],
                      pypi_url: str, channels: Sequence[str] = ()) -> AmlforgeError:
    """Turn a failed conda-lock run's output into one amlforge error with a one-line cause.

    Args:
        env: The conda file being locked.
        lines: conda-lock's combined stdout and stderr.
        platforms: Platforms requested.
        pypi_url: The PyPI index used for the pip section.
        channels: The effective channels.

    Returns:
        The most specific error: unsolvable (conda or pip), channel not found,
        channel or index unreachable, invalid requirement, or a generic LockError.
    """
    text = "\n".join(lines)
    tail = "\n".join(_without_tracebacks(lines)[-25:])
    block = _solver_block(lines)
    if block is not None:
        platform, message = block
        first = _first_line(message)
        if "GatewayError" in message or "FetchRepoDataError" in message \
                or "UnavailableInvalidChannel" in message or "ChannelNotFound" in message:
            channel, where = _failing_channel(env, message, channels)
            if _NETWORK.search(message):
                cause = _first_line(message.splitlines()[-1]).removeprefix("Caused by: ")
                return IndexUnreachableError(
                    f"cannot reach conda channel {channel}: {cause}",
                    where, "check the network, proxy or channel URL", message)
            if _NOT_FOUND.search(message):
                return ChannelNotFoundError(
                    f"channel {channel} not found: {first}", where,
                    "fix the channel name or URL in the conda file")
            return LockError(f"conda channel {channel}: {first}", where, "",
                             message)
        if _BAD_SPEC.search(message):
            req = _bad_requirement(env, message)
            return CondaFileError(
                f"invalid conda requirement{f' {req.spec!r}' if req else ''}: {first}",
                env.requirement_location(req),
                "use conda match spec syntax, e.g. 'numpy>=1.26,<2' or 'python=3.11'")
        return _unsolvable(env, platform, "conda", message)
    bad_specs = [m for m in re.findall(r"Failed to turn `([^`]*)` into a MatchSpec", text)
                 if m != "{spec}"]
    if bad_specs:
        spec = bad_specs[-1].strip()
        req = next((r for r in env.conda_requirements if r.spec == spec), None)
        return CondaFileError(
            f"invalid conda requirement {spec!r}",
            env.requirement_location(req),
            "use conda match spec syntax, e.g. 'numpy>=1.26,<2' or 'python=3.11'")
    if "InvalidRequirement" in text:
        exc = _last_exception(lines)
        stripped = {ln.strip() for ln in lines}
        req = next((r for r in env.pip_requirements if r.spec in stripped), None)
        return CondaFileError(
            f"invalid pip requirement{f' {req.spec!r}' if req else ''}: "
            f"{exc[1] if exc else _first_line(tail)}",
            env.requirement_location(req),
            "use PEP 508 syntax, e.g. 'requests>=2.31,<3'")
    if "SolverProblemError" in text or "version solving failed" in text:
        exc = _last_exception(lines)
        explanation = exc[1] if exc else _first_line(tail)
        return _unsolvable(env, primary_platform(platforms), "pip", explanation)
    if _NETWORK.search(tail):
        host = re.search(r"host='([^']+)'", tail)
        exc = _last_exception(lines)
        index = redact_url(pypi_url) if not host or host.group(1) in pypi_url else host.group(1)
        cause = "connection failed"
        for pattern, label in ((r"Connection refused", "connection refused"),
                               (r"NameResolutionError|Name or service not known|"
                                r"Temporary failure in name resolution", "name resolution failed"),
                               (r"timed out|ConnectTimeout", "timed out")):
            if re.search(pattern, tail, re.IGNORECASE):
                cause = label
                break
        return IndexUnreachableError(
            f"cannot reach the package index {index}: {cause}", env.location(),
            "check the network or proxy; amlforge resolves the pip: section against "
            f"{redact_url(pypi_url)} (set PIP_INDEX_URL or pip's index-url to change it)",
            exc[1] if exc else tail)
    if "PackageNotFoundError" in text:
        exc = _last_exception(lines)
        return LockError(
            f"PyPI lookup failed: {exc[1] if exc else 'package not found'}", env.location(),
            f"the index {redact_url(pypi_url)} must serve the PEP 503 simple API; set "
            f"{POETRY_URL_VAR} to a simple index URL", tail)
    if "channel configuration has changed" in text:
        return LockError(
            "cannot --update: the channels changed since the last lock", env.location(),
            "run `amlforge lock` without --update to re-lock from scratch", tail)
    if "Could not find conda (or compatible) executable" in text:
        return SolverNotFoundError("conda-lock found no conda solver executable",
                                   hint="pass --solver embedded")
    exc = _last_exception(lines)
    cause = f"{exc[0]}: {exc[1]}" if exc else _first_line(tail) or "conda-lock failed"
    return LockError(f"conda-lock failed: {_first_line(cause)}", env.location(), "", tail)
