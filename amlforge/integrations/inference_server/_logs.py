"""Reading the inference server's log: tracebacks, stack dumps, the user's frame, excerpts.

The server (azureml-inference-server-http 1.5.1) writes one log record per line
prefix ``2026-01-01 12:00:00,123 E [pid] logger - message``; a traceback is part
of the record that logs it. Two kinds of Python stack appear in it:

* tracebacks (``Traceback (most recent call last):``, frames as
  ``File "x.py", line 6, in init``; a ``SyntaxError`` adds ``File "x.py", line 6``);
* ``faulthandler`` stack dumps that amlforge requests when ``init()`` or ``run()`` is
  too slow (``... (most recent call first):``, frames as ``File "x.py", line 6 in init``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from msgspec import Struct

from amlforge._regex import LazyPattern

_FRAME_RE = LazyPattern(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?P<comma>,)?(?: in (?P<func>.+?))?\s*$')
_RECORD_RE = LazyPattern(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z] \[\d+\] \S+ - ")
_TRACEBACK_HEAD = "Traceback (most recent call last):"
_DUMP_HEAD = "(most recent call first):"
_CHAIN_LINES = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_SERVER_EXC_PREFIX = "azureml_inference_server_http."

#: Log records that are noise for a smoke test (the server logs them on every start).
_NOISE = (
    "Error while fetching model IDs",  # app-insights client expects azureml-models/<name>/<version>
    "Found extra keys in the config file",
)


#: Lines that continue a noise record: its traceback, or the server's "Extra keys = [...]".
_NOISE_CONTINUATION = LazyPattern(r"^(\s|Traceback \(|Extra keys = |[\w.]+(Error|Exception): )")


class Frame(Struct, frozen=True):
    """One stack frame found in the log."""

    file: str
    line: int
    func: str | None
    index: int  # line number in the text, for ordering
    dump: bool  # True for a faulthandler dump (most recent call first)


def frames(text: str) -> list[Frame]:
    """All stack frames in ``text``, in text order."""
    out: list[Frame] = []
    dump = False
    for i, line in enumerate(text.splitlines()):
        if _TRACEBACK_HEAD in line:
            dump = False
        elif line.rstrip().endswith(_DUMP_HEAD):
            dump = True
        m = _FRAME_RE.match(line)
        if m:
            out.append(Frame(m["file"], int(m["line"]), m["func"], i, dump and not m["comma"]))
    return out


def _is_under(path: str, root: Path) -> bool:
    try:
        p = os.path.realpath(path)
        r = os.path.realpath(root)
    except (OSError, ValueError):
        return False
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def user_frame(
    text: str, user_roots: list[Path], exclude_roots: list[Path], *, prefer_dump: bool = False
) -> Frame | None:
    """The innermost frame of the user's own code in ``text``.

    For tracebacks that is the last user frame (they list the most recent call
    last); for stack dumps, the first user frame of the first dump.

    Args:
        text: Log text.
        user_roots: Directories (or files) that hold the user's code.
        exclude_roots: Directories that never hold it (the Python environment), even
            when they are inside a user root.
        prefer_dump: Look at stack dumps before tracebacks (for "still running" cases).
    """

    def is_user(f: Frame) -> bool:
        if "site-packages" in f.file.split(os.sep) or "dist-packages" in f.file.split(os.sep):
            return False
        if any(_is_under(f.file, r) for r in exclude_roots):
            return False
        return any(_is_under(f.file, r) for r in user_roots)

    found = [f for f in frames(text) if is_user(f)]
    tb = [f for f in found if not f.dump]
    dumps = [f for f in found if f.dump]
    if prefer_dump and dumps:
        return dumps[0]
    if tb:
        return tb[-1]
    return dumps[0] if dumps else None


def exception_lines(text: str) -> list[str]:
    """The exception summary line of each traceback in ``text`` (``KeyError: 'x'``), in order."""
    out: list[str] = []
    in_tb = False
    for line in text.splitlines():
        if _TRACEBACK_HEAD in line:
            in_tb = True
            continue
        if not in_tb:
            continue
        if not line.strip():
            continue
        if line[:1].isspace():
            continue  # frame, source line or caret
        out.append(line.strip())
        in_tb = False
    return out


def user_exception(text: str) -> str | None:
    """The last exception in ``text`` that is not the server's own wrapper, else the last one.

    The server wraps user errors (``raise UserScriptException(ex) from ex``), so the
    user's exception is printed first and the wrapper last.
    """
    lines = exception_lines(text)
    for line in reversed(lines):
        if not line.startswith(_SERVER_EXC_PREFIX):
            return line
    return lines[-1] if lines else None


def short_exception(line: str) -> str:
    """``azureml_inference_server_http.server.user_script.UserScriptError: m`` -> ``UserScriptError: m``."""
    head, sep, rest = line.partition(":")
    if sep and " " not in head and "." in head:
        head = head.rsplit(".", 1)[1]
    return head + sep + rest


def strip_noise(text: str) -> str:
    """``text`` without the log records the server writes on every start that are not errors."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if _RECORD_RE.match(line):
            skipping = any(n in line for n in _NOISE)
        elif skipping and not _NOISE_CONTINUATION.match(line):
            skipping = False  # e.g. a print() line after the noise record
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def excerpt(text: str, *, max_lines: int = 60, user_roots: list[Path] | None = None) -> str:
    """A readable excerpt of the server log: noise removed, stack dumps shortened, tail kept.

    Args:
        text: Log text (usually the part since the event of interest).
        max_lines: At most this many lines are returned (the last ones).
        user_roots: Directories of the user's code; stack-dump frames outside them are
            collapsed.
    """
    lines = strip_noise(text).splitlines()
    kept: list[str] = []
    dump_frames_outside = 0
    in_dump = False
    for line in lines:
        if line.rstrip().endswith(_DUMP_HEAD):
            in_dump = True
            dump_frames_outside = 0
            kept.append(line)
            continue
        if in_dump:
            m = _FRAME_RE.match(line)
            if m and not m["comma"]:
                is_user = bool(user_roots) and any(_is_under(m["file"], r) for r in user_roots or [])
                if is_user or dump_frames_outside < 1:
                    if not is_user:
                        dump_frames_outside += 1
                    kept.append(line)
                elif dump_frames_outside == 1:
                    dump_frames_outside += 1
                    kept.append("  ... (server and gunicorn frames omitted)")
                continue
            in_dump = False
        kept.append(line)
    # Drop the server's start-up banner (blank lines and settings) from long excerpts.
    while kept and not kept[0].strip():
        kept.pop(0)
    if len(kept) > max_lines:
        kept = ["[... earlier log lines omitted ...]"] + kept[-max_lines:]
    return "\n".join(kept)


def worker_pids(text: str) -> list[int]:
    """Pids of every gunicorn worker booted according to the log."""
    return [int(m) for m in re.findall(r"Booting worker with pid: (\d+)", text)]


def worker_exit(text: str) -> str | None:
    """gunicorn's account of a worker that died: ``exited with code 1`` or ``was sent SIGKILL! ...``."""
    m = re.search(r"Worker \(pid:\d+\) (exited with code \d+|was sent \w+!?[^\n]*)", text)
    return m.group(1) if m else None


def listening_address(text: str) -> str | None:
    """``127.0.0.1:5001`` from gunicorn's ``Listening at: http://127.0.0.1:5001 (pid)``."""
    m = re.search(r"Listening at: \w+://(\S+)", text)
    return m.group(1) if m else None
