"""Process-tree helpers for the smoke server (Linux ``/proc``; POSIX process groups).

The inference server is gunicorn: a master process that forks one worker per
``--worker_count``. The master is started in a new session, so it leads its own
process group, and every process it starts carries an environment marker
(:data:`MARKER_ENV`). Stopping the server therefore has three nets:

1. ``SIGTERM`` to the process group (gunicorn's graceful stop), so that the
   master reaps its workers itself: a worker killed after its master is an orphan
   that only PID 1 can reap, which a container without an init process never does
   (and this project's machines do only lazily), so it would linger as a zombie;
2. after a short grace period, ``SIGKILL`` to the workers (the master, still
   alive, reaps them), then to the master and the whole group;
3. a final sweep over ``/proc`` for any process that still carries the marker
   (for example a grandchild the scoring script started in its own session);
4. every descendant of the master, including daemons that double-forked and called
   ``setsid()`` (the launcher is a child subreaper, so they stay below the master), is
   recorded before the stop and killed after it, whatever their environment;
5. amlforge itself is a child subreaper while the server runs (:class:`Reaper`): a process
   that outlives the master is re-parented to amlforge, not to PID 1, and is killed and
   reaped at the end, so nothing the smoke run started survives it, not even a daemon that
   cleared its environment.

If amlforge itself is killed (SIGKILL: no cleanup code runs), the server's launcher has
asked the kernel for a SIGINT on its parent's death (``PR_SET_PDEATHSIG``), which is
gunicorn's quick shutdown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

#: Environment variable set (to a random run id) on the server and inherited by
#: every process it starts; used to find stragglers.
MARKER_ENV = "AMLFORGE_SMOKE_RUN"

#: Signal on which the server processes dump every thread's Python stack to the
#: log (``faulthandler.register`` in the launcher). SIGURG is ignored by
#: default, so sending it to a process without the handler does no harm, and
#: gunicorn does not reset it in its workers.
STACK_DUMP_SIGNAL = signal.SIGURG

_PROC = Path("/proc")


def _stat(pid: int) -> tuple[int, int, str, int] | None:
    """Return ``(ppid, pgid, state, starttime)`` of a process, or None if it is gone."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    rest = raw[raw.rfind(")") + 2 :].split()
    try:
        return int(rest[1]), int(rest[2]), rest[0], int(rest[19])
    except (IndexError, ValueError):
        return None


def _all_pids() -> list[int]:
    try:
        return [int(p.name) for p in _PROC.iterdir() if p.name.isdigit()]
    except OSError:
        return []


def is_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    st = _stat(pid)
    return st is not None and st[2] not in ("Z", "X")


def children(pid: int) -> list[int]:
    """Direct, live children of ``pid``."""
    out = []
    for p in _all_pids():
        st = _stat(p)
        if st is not None and st[0] == pid and st[2] not in ("Z", "X"):
            out.append(p)
    return out


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (children first)."""
    parent_of: dict[int, int] = {}
    for p in _all_pids():
        st = _stat(p)
        if st is not None and st[2] not in ("Z", "X"):
            parent_of[p] = st[0]
    found: list[int] = []
    frontier = [pid]
    while frontier:
        nxt = [p for p, pp in parent_of.items() if pp in frontier and p not in found]
        found.extend(nxt)
        frontier = nxt
    return found


def _same_process(pid: int, seen: tuple[int, int, str, int]) -> bool:
    """Whether ``pid`` is still the process seen earlier (same start time: not a reused pid)."""
    now = _stat(pid)
    return now is not None and now[3] == seen[3] and now[2] not in ("Z", "X")


_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


def _prctl(option: int, value: int = 0) -> int | None:
    """``prctl(option, value)``, or None where it is not available (not Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if option == _PR_GET_CHILD_SUBREAPER:
            out = ctypes.c_int(0)
            if libc.prctl(option, ctypes.byref(out), 0, 0, 0) != 0:
                return None
            return out.value
        return libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None


class Reaper:
    """Makes amlforge a child subreaper while one server runs; :meth:`finish` kills and reaps
    every process re-parented to amlforge since then (what outlived the server's master)."""

    def __init__(self) -> None:
        self.previous = _prctl(_PR_GET_CHILD_SUBREAPER)
        if self.previous is not None:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        mine = _stat(os.getpid())
        self.since = mine[3] if mine else 0
        self.before = set(children(os.getpid()))

    def finish(self, master: int) -> None:
        """Kill and reap the adopted processes; give amlforge its previous subreaper setting."""
        try:
            for _ in range(50):  # a dying process may fork once more: repeat until none is left
                adopted = [p for p in children(os.getpid()) if p != master and p not in self.before]
                if not adopted:
                    break
                _kill(adopted, signal.SIGKILL)
                for p in adopted:
                    try:
                        os.waitpid(p, 0)
                    except ChildProcessError:
                        pass
                    except OSError:  # pragma: no cover
                        pass
            # adopted processes that died by themselves are zombies of ours: reap them too
            for p in _zombie_children(os.getpid()):
                if p != master and p not in self.before:
                    try:
                        os.waitpid(p, os.WNOHANG)
                    except OSError:
                        pass
        finally:
            if self.previous is not None:
                _prctl(_PR_SET_CHILD_SUBREAPER, self.previous)


def _zombie_children(pid: int) -> list[int]:
    out = []
    for p in _all_pids():
        st = _stat(p)
        if st is not None and st[0] == pid and st[2] == "Z":
            out.append(p)
    return out


def marked_processes(run_id: str) -> list[int]:
    """Live processes whose environment has ``AMLFORGE_SMOKE_RUN=<run_id>``."""
    needle = f"{MARKER_ENV}={run_id}".encode()
    out = []
    for p in _all_pids():
        if p == os.getpid():
            continue
        try:
            env = (_PROC / str(p) / "environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0") and is_alive(p):
            out.append(p)
    return out


def _kill(pids: Iterable[int], sig: int) -> None:
    for p in pids:
        try:
            os.kill(p, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    try:
        proc.wait(timeout=max(timeout, 0.0))
        return True
    except subprocess.TimeoutExpired:
        return False


def dump_stacks(proc: subprocess.Popen) -> list[int]:
    """Ask the server's workers (or the master if it has none) to log their Python stacks.

    Returns:
        The process ids that were signalled.
    """
    if proc.poll() is not None:
        return []
    targets = children(proc.pid) or [proc.pid]
    _kill(targets, STACK_DUMP_SIGNAL)
    return targets


def stop_server(proc: subprocess.Popen, run_id: str, *, grace_s: float = 2.0) -> None:
    """Stop the server started as ``proc`` (a session leader) and everything it started.

    Safe to call more than once and after the server has exited on its own. A
    second Ctrl-C (or a SIGTERM turned into SystemExit) while this runs escalates straight
    to ``SIGKILL``.

    Args:
        proc: The gunicorn master (started with ``start_new_session=True``).
        run_id: The value of :data:`MARKER_ENV` given to the server.
        grace_s: How long gunicorn gets for its graceful stop before workers are killed.
    """
    try:
        _stop(proc, run_id, grace_s)
    except (KeyboardInterrupt, SystemExit):
        _stop(proc, run_id, 0.0)
        raise


def _stop(proc: subprocess.Popen, run_id: str, grace_s: float) -> None:
    pgid = proc.pid
    # the whole tree now (daemons included: the master is their subreaper), killed at the end
    tree = {p: _stat(p) for p in descendants(proc.pid)} if proc.poll() is None else {}
    if proc.poll() is None:
        _killpg(pgid, signal.SIGTERM)
        if not _wait(proc, grace_s):
            # Workers stuck in init() or run() ignore SIGTERM. Kill them first so that
            # the master, which is in its graceful-stop loop and no longer respawns
            # workers, reaps them and exits by itself.
            _kill(descendants(proc.pid), signal.SIGKILL)
            if not _wait(proc, 1.5):
                _killpg(pgid, signal.SIGKILL)
                _kill([proc.pid], signal.SIGKILL)
                proc.wait()
    # The master is gone (and reaped). Anything left in its group, in its tree as it was, or
    # carrying the marker is a straggler: kill it.
    _killpg(pgid, signal.SIGKILL)
    _kill([p for p, st in tree.items() if st is not None and _same_process(p, st)], signal.SIGKILL)
    deadline = time.monotonic() + 3.0
    while True:
        left = marked_processes(run_id)
        if not left or time.monotonic() > deadline:
            break
        _kill(left, signal.SIGKILL)
        time.sleep(0.05)
