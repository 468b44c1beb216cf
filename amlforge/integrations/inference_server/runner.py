"""Run a scoring script in the real ``azureml-inference-server-http`` and report like Azure would.

:func:`run_smoke` starts ``azmlinfsrv`` from the given interpreter's environment on a
free loopback port, waits for it within the readiness-probe budget, calls the
liveness route, POSTs the sample request, and stops the server (and every process it
started) whatever happens, including Ctrl-C. Failures are mapped to the error the
deployment would get in Azure (see ``docs/smoke.md`` for the table and for what the
server logs in each case).

The module is independent of amlforge's spec models: a :class:`SmokeTarget` holds
plain paths and numbers.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from msgspec import Struct, field
from msgspec.structs import asdict

from amlforge.errors import UserInputError
from amlforge.specs.files import read_user_text

from . import _logs, _procs

#: Azure errors used in :attr:`SmokeReport.azure_error`.
RESOURCE_NOT_READY = "ResourceNotReady"

_LOOPBACK = "127.0.0.1"
_MAX_BODY = 2000
_PASSTHROUGH_ENV = ("HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM")

# Runs in the target interpreter (Python 3.8+ syntax). It is the real server entry
# point (azureml_inference_server_http.amlserver.run, what `azmlinfsrv` calls) with
# adjustments that do not change how the scoring script is loaded or called:
#  * stop when amlforge dies (PR_SET_PDEATHSIG, set here rather than in a preexec_fn,
#    which is unsafe in a threaded parent),
#  * bind to 127.0.0.1 instead of the hard-coded 0.0.0.0 (constants.DEFAULT_HOST),
#  * no gunicorn control socket (gunicorn >= 25 creates ~/.gunicorn/gunicorn.ctl,
#    shared by concurrent servers),
#  * faulthandler dumps every thread's stack on SIGURG, inherited by the workers, so
#    that a too-slow init() or run() can be located,
#  * it is a child subreaper (PR_SET_CHILD_SUBREAPER): a daemon the scoring script starts
#    (double fork, setsid()) stays below it, where stopping the server finds it.
_LAUNCHER = r"""
import faulthandler, os, signal, sys
_parent = int(os.environ.pop("AMLFORGE_SMOKE_PARENT", "0"))
try:  # if amlforge dies (even by SIGKILL), the kernel sends us SIGINT: gunicorn's quick shutdown
    import ctypes
    ctypes.CDLL(None).prctl(1, int(signal.SIGINT), 0, 0, 0)  # PR_SET_PDEATHSIG
    # orphans of the server tree (a daemon that double-forks and calls setsid()) are
    # re-parented to this process instead of PID 1, so they stay its descendants
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except Exception:
    pass
if _parent and os.getppid() != _parent:
    sys.exit("amlforge exited before the server started")
faulthandler.register(signal.SIGURG, all_threads=True, chain=False)
try:
    import gunicorn.config as _gc
    if hasattr(_gc, "ControlSocketDisable"):
        os.environ["GUNICORN_CMD_ARGS"] = (os.environ.get("GUNICORN_CMD_ARGS", "") + " --no-control-socket").strip()
except Exception:
    pass
import azureml_inference_server_http.constants as _c
_c.DEFAULT_HOST = "127.0.0.1"
from azureml_inference_server_http import amlserver as _s
if hasattr(_s, "DEFAULT_HOST"):
    _s.DEFAULT_HOST = "127.0.0.1"
sys.argv[0] = "azmlinfsrv"
sys.exit(_s.run())
"""

_PREFLIGHT = r"""
import json, sys
try:
    import importlib.metadata as md
except ImportError:
    md = None
out = {"python": sys.version.split()[0], "prefix": sys.prefix, "server": None, "gunicorn": None}
for key, dist in (("server", "azureml-inference-server-http"), ("gunicorn", "gunicorn")):
    try:
        out[key] = md.version(dist)
    except Exception:
        pass
try:
    import importlib.util
    out["importable"] = importlib.util.find_spec("azureml_inference_server_http") is not None
except Exception:
    out["importable"] = False
print(json.dumps(out))
"""


class SmokeInputError(ValueError):
    """Bad input to :func:`run_smoke` (a missing file, an interpreter without the server, ...).

    Attributes:
        hint: What the user can do about it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class SmokeTarget(Struct, frozen=True):
    """What to run, with the deployment settings that matter for a smoke test.

    Attributes:
        scoring_script: Path of the scoring script (``code_configuration.scoring_script``).
        code_dir: The ``code_configuration.code`` directory; the server's working
            directory and import root. The script must be inside it.
        model_dir: Directory used verbatim as ``AZUREML_MODEL_DIR``. Mutually exclusive
            with ``model_path``.
        environment_variables: The deployment's ``environment_variables``.
        worker_count: gunicorn workers (``WORKER_COUNT``).
        probe_initial_delay_s: Readiness probe ``initial_delay``.
        probe_period_s: Readiness probe ``period``.
        probe_failure_threshold: Readiness probe ``failure_threshold``. The server must be
            ready within ``initial_delay + failure_threshold * period`` seconds.
        request_timeout_ms: ``request_settings.request_timeout_ms``.
        request_body: The sample request; None skips the scoring call.
        request_content_type: Content type of the sample request.
        source_label: Where the target came from (``"blue.yml"``), for messages.
        probe_timeout_s: Probe ``timeout``: the liveness call must answer within it.
        endpoint_kind: ``"managed"`` or ``"kubernetes"``; selects the scoring-time HTTP
            codes (424/408 vs 502/504).
        model_path: The deployment's local ``model.path`` (file or folder). It is staged
            the way Azure mounts a model, ``AZUREML_MODEL_DIR=<tmp>/azureml-models/
            <model_name>/<model_version>`` with the file or folder *name kept* beneath it,
            so a script that only works with the author's local layout fails here too.
        model_name: Model name used in the staged layout.
        model_version: Model version used in the staged layout.
    """

    scoring_script: Path
    code_dir: Path
    model_dir: Path | None = None
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    worker_count: int = 1
    probe_initial_delay_s: float = 10
    probe_period_s: float = 10
    probe_failure_threshold: int = 30
    request_timeout_ms: int = 5000
    request_body: bytes | None = None
    request_content_type: str = "application/json"
    source_label: str = ""
    probe_timeout_s: float = 2
    endpoint_kind: str = "managed"
    model_path: Path | None = None
    model_name: str = "model"
    model_version: str = "1"

    @property
    def probe_budget_s(self) -> float:
        """``initial_delay + failure_threshold * period``: time the container has to become ready."""
        return self.probe_initial_delay_s + self.probe_failure_threshold * self.probe_period_s


class SmokeReport(Struct):
    """Outcome of a smoke test. JSON-serialisable through :meth:`to_dict`.

    Attributes:
        ok: True when the server became ready, answered the liveness probe and (if a
            request was given) returned 200 within ``request_timeout_ms``.
        stage: Last stage reached: ``"start"`` (server process), ``"init"`` (loading the
            script and running ``init()`` until ready), ``"liveness"`` (``GET /``) or
            ``"score"`` (``POST /score``). ``"environment"`` is used by callers for a
            failed environment build.
        azure_error: What Azure would report: ``"ResourceNotReady"`` (the container never
            becomes ready), ``"HTTP 424"`` (managed: the model container answered non-200),
            ``"HTTP 408"`` (managed: slower than request_timeout_ms), ``"HTTP 502"`` /
            ``"HTTP 504"`` (Kubernetes equivalents), or None.
        message: One-line summary.
        hint: What to change, when amlforge can tell.
        exception: The user's exception line (``KeyError: 'x'``), when there is one.
        user_file: The user's file from the traceback or stack dump (usually the script).
        user_line: The line in ``user_file``.
        log_excerpt: The relevant part of the server log.
        startup_seconds: Seconds from start until the server answered ``GET /``.
        probe_budget_s: The readiness budget used.
        latency_ms: Round-trip time of the scoring request.
        request_timeout_ms: The limit it was compared with.
        status_code: HTTP status the server returned for the scoring request.
        response_body: The response (truncated to 2000 characters).
        server_version: azureml-inference-server-http version that ran.
        python: Interpreter that ran the server.
        python_version: Its version.
        endpoint_kind: ``"managed"`` or ``"kubernetes"``.
        source_label: Copied from the target.
        notes: Other observations (warnings that did not fail the test).
        server_pids: The gunicorn master and worker pids (diagnostics; all stopped).
        log_file: Where the full server log was kept, if asked.
    """

    ok: bool
    stage: str
    azure_error: str | None = None
    message: str = ""
    hint: str | None = None
    exception: str | None = None
    user_file: str | None = None
    user_line: int | None = None
    log_excerpt: str = ""
    startup_seconds: float | None = None
    probe_budget_s: float | None = None
    latency_ms: float | None = None
    request_timeout_ms: int | None = None
    status_code: int | None = None
    response_body: str | None = None
    server_version: str | None = None
    python: str | None = None
    python_version: str | None = None
    endpoint_kind: str = "managed"
    source_label: str = ""
    notes: list[str] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)
    log_file: str | None = None

    def to_dict(self) -> dict:
        """Plain-JSON form of the report."""
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)


# ---------------------------------------------------------------------------------------
# helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_LOOPBACK, 0))
        return s.getsockname()[1]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _preflight(python: Path) -> dict:
    try:
        out = subprocess.run(
            [str(python), "-I", "-c", _PREFLIGHT], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SmokeInputError(
            f"cannot run {python}: {exc}", hint="pass the python executable of an existing environment"
        ) from None
    if out.returncode != 0:
        raise SmokeInputError(
            f"{python} failed to start: {(out.stderr or out.stdout).strip()[-500:]}",
            hint="pass the python executable of a working Python 3.9+ environment",
        )
    try:
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SmokeInputError(f"{python} did not behave like a Python interpreter", hint="check --python") from None
    if not info.get("importable"):
        raise SmokeInputError(
            f"azureml-inference-server-http is not installed in the environment of {python}",
            hint=(
                "pip install azureml-inference-server-http into that environment (Azure needs it in the "
                "deployment's environment too), or omit --python to let amlforge build one"
            ),
        )
    return info


def _stage_model(target: SmokeTarget, tmp: Path) -> Path:
    """Lay out ``target.model_path`` as Azure mounts it; return the AZUREML_MODEL_DIR to use."""
    src = Path(target.model_path).resolve()  # type: ignore[arg-type]
    model_dir = tmp / "azureml-models" / target.model_name / target.model_version
    dest = model_dir / src.name
    model_dir.mkdir(parents=True)
    if src.is_file():
        dest.symlink_to(src)
        return model_dir
    # Real directories with per-file symlinks: os.walk() and os.listdir() behave as on the
    # mounted copy in Azure, and nothing is copied.
    for dirpath, _dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            (dest / rel / name).symlink_to(Path(dirpath) / name)
    return model_dir


def _server_env(target: SmokeTarget, python: Path, model_dir: Path | None, run_id: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASSTHROUGH_ENV if k in os.environ}
    env["PATH"] = f"{python.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    env.update({str(k): str(v) for k, v in target.environment_variables.items()})
    env["PYTHONUNBUFFERED"] = "1"  # the log is a file: keep it in order and up to date
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the user's code directory
    for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        if k not in target.environment_variables:
            env.pop(k, None)
    if model_dir is not None:
        env["AZUREML_MODEL_DIR"] = str(model_dir)
    env[_procs.MARKER_ENV] = run_id
    env["AMLFORGE_SMOKE_PARENT"] = str(os.getpid())  # read and removed by the launcher
    return env


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While running, turn SIGTERM/SIGHUP (if unhandled) into SystemExit so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) == signal.SIG_DFL:
                previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _http_status(data: bytes) -> int | None:
    try:
        return int(data.split(b"\r\n", 1)[0].split()[1])
    except (IndexError, ValueError):
        return None


class _Server:
    """One azmlinfsrv process tree and its log."""

    def __init__(self, target: SmokeTarget, python: Path, model_dir: Path | None, log: Path) -> None:
        self.target = target
        self.python = python
        self.model_dir = model_dir
        self.log = log
        self.run_id = uuid.uuid4().hex
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.health_port = 0
        self.started = 0.0
        self.pids: list[int] = []
        self.reaper: _procs.Reaper | None = None
        self.stopped = False
        self.stuck = False
        self.ready = False
        self.last_probe_status: int | None = None

    def start(self) -> None:
        self.port = _free_port()
        env = _server_env(self.target, self.python, self.model_dir, self.run_id)
        cmd = [
            str(self.python),
            "-c",
            _LAUNCHER,
            "--entry_script",
            str(Path(self.target.scoring_script).resolve()),
            "--port",
            str(self.port),
            "--worker_count",
            str(self.target.worker_count),
        ]
        self.health_port = self.port
        if env.get("SEPERATE_HEALTH_ENDPOINT", "").lower() == "true":  # sic, the server's spelling
            self.health_port = _free_port()
            cmd += ["--health_port", str(self.health_port)]
        if self.model_dir is not None:
            cmd += ["--model_dir", str(self.model_dir)]
        self.reaper = _procs.Reaper()  # amlforge adopts what outlives the server's master
        with open(self.log, "ab") as fh:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                cmd,
                cwd=str(self.target.code_dir),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pids = [self.proc.pid]

    def text(self) -> str:
        return _read(self.log)

    def stop(self) -> None:
        if self.proc is None or self.stopped:
            return
        self.stopped = True
        self.pids = [self.proc.pid, *_logs.worker_pids(self.text())]
        # A worker stuck in init() or run() ignores SIGTERM: don't wait long for it.
        stuck = self.stuck or not self.ready
        try:
            _procs.stop_server(self.proc, self.run_id, grace_s=0.3 if stuck else 2.0)
        finally:
            if self.reaper is not None:
                self.reaper.finish(self.proc.pid)

    def dump_stacks(self, settle_s: float = 1.0) -> None:
        """Have the workers log their stacks; wait until the dump shows up in the log."""
        if self.proc is None or not _procs.dump_stacks(self.proc):
            return
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            if "(most recent call first):" in self.text():
                time.sleep(0.1)  # let the rest of the dump arrive
                return
            time.sleep(0.05)

    def wait_ready(self, deadline: float) -> str:
        """Poll ``GET /`` until 200. Returns "ready", "exited", "timeout", "port-in-use" or "not-loopback".

        One probe connection at a time, left pending while the worker loads the script
        (gunicorn's master accepts connections before its worker is ready), so start-up
        time is measured precisely without flooding the listen queue.
        """
        assert self.proc is not None
        while True:
            state = self._check_log()
            if state:
                return state
            if self.proc.poll() is not None:
                return "exited"
            if time.monotonic() >= deadline:
                return "timeout"
            try:
                sock = socket.create_connection((_LOOPBACK, self.health_port), timeout=0.5)
            except OSError:
                time.sleep(0.1)
                continue
            with sock:
                status = self._probe(sock, deadline)
            if isinstance(status, int):
                self.last_probe_status = status
            if status == 200:
                self.ready = True
                return "ready"
            if status in ("exited", "timeout"):
                return status
            time.sleep(0.2)

    def _check_log(self) -> str | None:
        text = self.text()
        if "Connection in use" in text:
            return "port-in-use"
        addr = _logs.listening_address(text)
        if addr and not addr.startswith(f"{_LOOPBACK}:"):
            return "not-loopback"
        return None

    def _probe(self, sock: socket.socket, deadline: float) -> int | str | None:
        assert self.proc is not None
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        except OSError:
            return None
        data = b""
        while True:
            if self.proc.poll() is not None:
                return "exited"
            now = time.monotonic()
            if now >= deadline:
                return "timeout"
            sock.settimeout(min(0.25, deadline - now))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if self._check_log():
                    return None
                continue
            except OSError:
                return None
            if not chunk:
                return _http_status(data)
            data += chunk


# ---------------------------------------------------------------------------------------
# failure analysis


def _top_level_defs(script: Path) -> dict[str, int]:
    try:
        tree = ast.parse(read_user_text(script, errors="replace"))
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError, UserInputError):
        return {}
    return {n.name: n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _nested_def(script: Path, name: str) -> int | None:
    try:
        tree = ast.parse(read_user_text(script, errors="replace"))
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError, UserInputError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node.lineno
    return None


def _azure_for_score(kind: str, *, timeout: bool = False) -> str:
    if kind == "kubernetes":
        return "HTTP 504" if timeout else "HTTP 502"
    return "HTTP 408" if timeout else "HTTP 424"


class _Analysis:
    """Turns what the server logged into a report."""

    def __init__(self, target: SmokeTarget, python: Path, report: SmokeReport, env_prefix: str | None) -> None:
        self.target = target
        self.report = report
        script = Path(target.scoring_script).resolve()
        self.script = script
        self.user_roots = [Path(target.code_dir).resolve(), script]
        excl = [Path(python).parent.parent]
        if env_prefix:
            excl.append(Path(env_prefix))
        # The environment's files are never the user's code, unless it *contains* the code
        # directory (a virtualenv created in the project root); site-packages is excluded anyway.
        self.exclude = [r for r in excl if not _logs._is_under(str(target.code_dir), r)]
        self.label = f"{target.source_label}: " if target.source_label else ""

    def locate(self, text: str, *, prefer_dump: bool = False) -> None:
        """Fill exception, user_file and user_line from ``text``."""
        text = _logs.strip_noise(text)
        frame = _logs.user_frame(text, self.user_roots, self.exclude, prefer_dump=prefer_dump)
        if frame:
            self.report.user_file = frame.file
            self.report.user_line = frame.line
        exc = _logs.user_exception(text)
        if exc:
            self.report.exception = _logs.short_exception(exc)

    def where(self) -> str:
        if self.report.user_file and self.report.user_line:
            return f"{_rel(self.report.user_file, self.target.code_dir)}:{self.report.user_line}: "
        return ""

    def excerpt(self, text: str) -> str:
        # Skip the server's start-up banner (settings, routes) once a worker has booted.
        i = text.find("Booting worker")
        if i > 0 and "Listening at:" in text[:i]:
            text = text[text.rfind("\n", 0, i) + 1 :]
        return _logs.excerpt(text, user_roots=self.user_roots)

    def start_failure(self, text: str, rc: int | None) -> None:
        r = self.report
        r.ok = False
        r.azure_error = RESOURCE_NOT_READY
        r.log_excerpt = self.excerpt(text)
        self.locate(text)
        booted = "Booting worker" in text
        r.stage = "init" if booted else "start"
        script = _rel(self.script, self.target.code_dir)
        exc = r.exception or ""
        if "does not have a init() function defined" in text or "does not have a run() function defined" in text:
            missing = "init" if "does not have a init()" in text else "run"
            r.exception = f"{script} defines no {missing}() function"
            r.user_file = str(self.script)
            r.user_line = None
            defs = _top_level_defs(self.script)
            nested = _nested_def(self.script, missing)
            close = (
                difflib.get_close_matches(missing, list(defs), n=1, cutoff=0.5)
                or [n for n in defs if missing in n.lower()][:1]
            )
            if nested is not None:
                r.user_line = nested
                r.message = f"{self.label}{script}:{nested}: {missing}() is defined, but not at module level"
                r.hint = f"define {missing}() at the top level of {script}; the server looks it up on the module"
            elif close:
                r.user_line = defs[close[0]]
                r.message = f"{self.label}{script}:{r.user_line}: no {missing}() function (found {close[0]}())"
                r.hint = f"the server calls {missing}(); rename {close[0]}() to {missing}()"
            else:
                r.message = f"{self.label}{script}: no {missing}() function"
                r.hint = f"the server requires module-level init() and run(); add {missing}()"
        elif "User's init function failed" in text:
            r.message = f"{self.label}{self.where()}init() raised {exc}".rstrip()
            r.hint = (
                "init() runs in every worker at container start; in Azure the container restarts until the "
                "deployment fails"
            )
            if exc.startswith(("FileNotFoundError", "OSError", "IsADirectoryError", "NotADirectoryError")):
                r.hint += (
                    "; check model paths: Azure mounts the model at AZUREML_MODEL_DIR with the registered "
                    "file or folder name kept (a folder ./model is at $AZUREML_MODEL_DIR/model/...)"
                )
        elif "Failed to import user script" in text:
            if exc.startswith("SyntaxError") or exc.startswith("IndentationError") or exc.startswith("TabError"):
                r.message = f"{self.label}{self.where()}{exc}: the scoring script cannot be imported"
                r.hint = f"fix the syntax error (python -m py_compile {script} shows it)"
            elif exc.startswith(("ModuleNotFoundError", "ImportError")):
                r.message = f"{self.label}{self.where()}{exc}: the scoring script cannot be imported"
                r.hint = (
                    "add the distribution that provides this module to the environment's conda/pip "
                    "dependencies (pinned), or remove the import"
                )
            else:
                r.message = f"{self.label}{self.where()}importing the scoring script raised {exc}"
                r.hint = "module-level code of the scoring script runs at import; move fragile work into init()"
        elif "run() " in exc or "run() cannot" in text or "run() needs" in text:
            r.user_file = str(self.script)
            r.user_line = _top_level_defs(self.script).get("run")
            r.message = f"{self.label}{self.where()}{exc}"
            r.hint = "run() must take one data argument (and optionally request_headers), no *args/**kwargs"
        elif "Configuration Error" in text:
            r.message = f"{self.label}the server rejected its configuration (environment variables)"
            r.hint = "check the deployment's environment_variables against the server's settings"
        elif booted:
            r.message = f"{self.label}{self.where()}the server's worker failed to boot" + (f": {exc}" if exc else "")
            r.hint = "see the server log below"
        else:
            r.message = f"{self.label}the inference server exited during start-up (exit code {rc})"
            r.hint = "see the server log below; the environment may be missing a server dependency"
        r.message = r.message.rstrip(": ")

    def too_slow_init(self, text: str, last_status: int | None) -> None:
        t = self.target
        r = self.report
        r.ok = False
        r.stage = "init"
        r.azure_error = RESOURCE_NOT_READY
        self.locate(text, prefer_dump=True)
        r.exception = None
        budget = (
            f"{t.probe_budget_s:g} s (readiness_probe initial_delay {t.probe_initial_delay_s:g} + "
            f"failure_threshold {t.probe_failure_threshold} x period {t.probe_period_s:g})"
        )
        still = f"; init() was still running at {self.where().rstrip(': ')}" if self.where() else ""
        if last_status is not None:
            still += f"; GET / last answered {last_status}"
        r.message = f"{self.label}not ready within the probe budget of {budget}{still}"
        r.hint = (
            "make init() faster (load less, or load lazily), or raise readiness_probe.initial_delay / "
            "failure_threshold (and liveness_probe, which restarts the container when it gives up)"
        )
        r.log_excerpt = self.excerpt(text)


def _rel(path: str | Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except (ValueError, OSError):
        return str(path)


def _validate(target: SmokeTarget, python: Path) -> None:
    def need(cond: bool, msg: str, hint: str) -> None:
        if not cond:
            raise SmokeInputError(msg, hint)

    script = Path(target.scoring_script)
    code = Path(target.code_dir)
    need(code.is_dir(), f"code directory not found: {code}", "pass the code_configuration.code directory")
    need(script.is_file(), f"scoring script not found: {script}", "scoring_script is relative to the code directory")
    need(
        _logs._is_under(str(script), code),
        f"scoring script {script} is outside the code directory {code}",
        "Azure uploads only the code directory; move the script into it",
    )
    need(not (target.model_dir and target.model_path), "give model_dir or model_path, not both", "")
    if target.model_dir is not None:
        need(Path(target.model_dir).is_dir(), f"model directory not found: {target.model_dir}", "check the model path")
    if target.model_path is not None:
        need(Path(target.model_path).exists(), f"model path not found: {target.model_path}", "check model.path")
    need(target.worker_count >= 1, f"worker_count must be >= 1, got {target.worker_count}", "")
    need(target.request_timeout_ms > 0, f"request_timeout_ms must be > 0, got {target.request_timeout_ms}", "")
    need(
        target.probe_initial_delay_s >= 0 and target.probe_period_s > 0 and target.probe_failure_threshold >= 1,
        "probe settings must have initial_delay >= 0, period > 0, failure_threshold >= 1",
        "",
    )
    need(target.endpoint_kind in ("managed", "kubernetes"), f"unknown endpoint kind {target.endpoint_kind!r}", "")
    for k, v in target.environment_variables.items():
        need(
            isinstance(k, str) and isinstance(v, str),
            f"environment variable {k!r} must map to a string",
            "quote it in YAML",
        )
    need(
        Path(python).exists() and os.access(python, os.X_OK),
        f"python interpreter not found or not executable: {python}",
        "pass the bin/python of an environment that has azureml-inference-server-http",
    )


# ---------------------------------------------------------------------------------------
# the entry point


def run_smoke(
    target: SmokeTarget,
    python: Path,
    *,
    on_event: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> SmokeReport:
    """Run ``target``'s scoring script in the real inference server and report the outcome.

    Steps: start ``azmlinfsrv`` from ``python``'s environment on a free 127.0.0.1 port
    (new session, deployment env vars, ``AZUREML_MODEL_DIR``, ``--worker_count``); wait
    until ``GET /`` answers 200 within the readiness-probe budget; call ``GET /`` again
    as the liveness probe; POST ``request_body`` to ``/score`` and compare the latency
    with ``request_timeout_ms``; stop the server and every process it started. The
    server is stopped on every path, including exceptions, Ctrl-C and SIGTERM.

    Args:
        target: What to run.
        python: Interpreter of the environment to run the server in; it must have
            ``azureml-inference-server-http`` installed (see
            :func:`~amlforge.integrations.inference_server.ensure_smoke_python`).
        on_event: Progress callback, called with one-line messages.
        log_file: If given, the complete server log is copied there.

    Returns:
        The report; ``report.ok`` tells whether the deployment would pass this check.

    Raises:
        SmokeInputError: For bad input (missing files, an interpreter without the server).
        KeyboardInterrupt: On Ctrl-C, after the server has been stopped.
    """
    emit = on_event or (lambda _msg: None)
    python = Path(python)
    _validate(target, python)
    info = _preflight(python)
    report = SmokeReport(
        ok=False,
        stage="start",
        probe_budget_s=target.probe_budget_s,
        request_timeout_ms=target.request_timeout_ms,
        server_version=info.get("server"),
        python=str(python),
        python_version=info.get("python"),
        endpoint_kind=target.endpoint_kind,
        source_label=target.source_label,
    )
    version = info.get("server") or ""
    if version.startswith("0."):
        report.notes.append(f"azureml-inference-server-http {version} is older than 1.0; its log format may differ")

    tmp = Path(tempfile.mkdtemp(prefix="amlforge-smoke-"))
    try:
        with _terminate_as_exit():
            model_dir = Path(target.model_dir).resolve() if target.model_dir else None
            if target.model_path is not None:
                model_dir = _stage_model(target, tmp)
                report.notes.append(
                    f"model staged as Azure mounts it: AZUREML_MODEL_DIR/{Path(target.model_path).name} "
                    f"-> {Path(target.model_path).resolve()}"
                )
            analysis = _Analysis(target, python, report, info.get("prefix"))
            server: _Server | None = None
            try:
                for _attempt in range(3):
                    server = _Server(target, python, model_dir, tmp / f"server-{_attempt}.log")
                    server.start()
                    emit(
                        f"started azmlinfsrv {version} on {_LOOPBACK}:{server.port} "
                        f"(python {info.get('python')}, {target.worker_count} worker(s)); "
                        f"readiness budget {target.probe_budget_s:g} s"
                    )
                    state = server.wait_ready(server.started + target.probe_budget_s)
                    if state != "port-in-use":
                        break
                    emit("port taken by another process; retrying on another port")
                    server.stop()
                assert server is not None
                _drive(server, state, target, report, analysis, emit)
            finally:
                if server is not None:
                    emit("stopping the server")
                    server.stop()
                    report.server_pids = sorted(set(server.pids))
                    if log_file is not None:
                        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(server.log, log_file)
                        report.log_file = str(log_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def _drive(
    server: _Server,
    state: str,
    target: SmokeTarget,
    report: SmokeReport,
    analysis: _Analysis,
    emit: Callable[[str], None],
) -> None:
    """Everything after the start: readiness outcome, liveness, scoring."""
    if state == "not-loopback":
        report.stage = "start"
        report.message = (
            f"the server bound to {_logs.listening_address(server.text())} instead of {_LOOPBACK}; amlforge stopped it "
            "(this server version is not supported by the loopback launcher)"
        )
        report.log_excerpt = analysis.excerpt(server.text())
        return
    if state == "exited":
        assert server.proc is not None
        analysis.start_failure(server.text(), server.proc.returncode)
        emit(f"server exited during start-up: {report.message}")
        return
    if state == "timeout":
        emit("not ready within the probe budget; dumping the workers' stacks")
        server.stuck = True
        server.dump_stacks()
        analysis.too_slow_init(server.text(), server.last_probe_status)
        return
    if state == "port-in-use":
        report.message = "could not get a free loopback port after 3 attempts"
        report.log_excerpt = analysis.excerpt(server.text())
        return

    report.startup_seconds = round(time.monotonic() - server.started, 3)
    emit(f"ready after {report.startup_seconds:.1f} s")
    if report.startup_seconds > 0.8 * target.probe_budget_s:
        report.notes.append(
            f"start-up took {report.startup_seconds:.1f} s of the {target.probe_budget_s:g} s probe budget; "
            "a slower instance may not make it"
        )

    # Liveness: GET / must answer 200 within the probe timeout.
    report.stage = "liveness"
    try:
        status, _headers, body, _ms = _request(server.health_port, "GET", "/", None, None, target.probe_timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        status, body = None, repr(exc).encode()
    if status != 200:
        report.azure_error = RESOURCE_NOT_READY
        report.message = f"{analysis.label}liveness probe GET / answered {status or body.decode(errors='replace')}"
        report.hint = "the liveness probe restarts the container when GET / fails"
        report.log_excerpt = analysis.excerpt(server.text())
        return

    if target.request_body is None:
        report.ok = True
        report.message = (
            f"{analysis.label}ready after {report.startup_seconds:.1f} s; no sample request, /score not called"
        )
        report.notes.append("no sample request given: run() was not exercised")
        return

    # Scoring.
    report.stage = "score"
    offset = len(server.text())
    timeout_s = target.request_timeout_ms / 1000.0
    emit(f"POST /score ({len(target.request_body)} bytes, timeout {target.request_timeout_ms} ms)")
    try:
        status, headers, body, latency_ms = _request(
            server.port, "POST", "/score", target.request_body, target.request_content_type, timeout_s
        )
    except TimeoutError:
        report.latency_ms = None
        report.azure_error = _azure_for_score(target.endpoint_kind, timeout=True)
        server.stuck = True
        server.dump_stacks()
        text = server.text()[offset:]
        analysis.locate(text, prefer_dump=True)
        report.exception = None
        at = f"; run() was still running at {analysis.where().rstrip(': ')}" if analysis.where() else ""
        report.message = f"{analysis.label}no response within request_timeout_ms={target.request_timeout_ms}{at}"
        report.hint = "make run() faster or raise request_settings.request_timeout_ms (managed maximum 180000)"
        report.log_excerpt = analysis.excerpt(text)
        return
    except (OSError, http.client.HTTPException) as exc:
        time.sleep(0.3)  # let gunicorn log why the worker died
        text = server.text()[offset:]
        report.azure_error = _azure_for_score(target.endpoint_kind)
        analysis.locate(text)
        died = _logs.worker_exit(text)
        report.message = f"{analysis.label}the server dropped the scoring request ({exc.__class__.__name__}): " + (
            f"the worker {died}" if died else "the worker probably crashed"
        )
        report.hint = "a worker killed during run() (out of memory, segfault in native code) gives this"
        report.log_excerpt = analysis.excerpt(text)
        return

    report.status_code = status
    report.latency_ms = round(latency_ms, 1)
    text_body = body.decode("utf-8", errors="replace")
    report.response_body = text_body if len(text_body) <= _MAX_BODY else text_body[:_MAX_BODY] + "...[truncated]"
    emit(f"/score answered {status} in {latency_ms:.0f} ms")
    if status != 200:
        time.sleep(0.05)
        text = server.text()[offset:]
        analysis.locate(text)
        report.azure_error = _azure_for_score(target.endpoint_kind)
        failed = str(headers.get("x-ms-run-function-failed", "")).lower() == "true"
        code = report.azure_error
        if failed and report.exception and report.exception.startswith("UserScriptTimeout"):
            report.message = (
                f"{analysis.label}{analysis.where()}run() was stopped by the server's own scoring timeout "
                f"(SCORING_TIMEOUT_MS): {text_body[:200]}"
            )
        elif failed and report.exception:
            report.message = f"{analysis.label}{analysis.where()}run() raised {report.exception}"
        elif failed:
            report.message = f"{analysis.label}run() failed: {text_body[:200]}"
        else:
            report.message = f"{analysis.label}/score answered {status}: {text_body[:200]}"
        if target.endpoint_kind == "managed":
            report.hint = (
                f"in Azure the client gets {code} (the model container answered {status}; see the "
                "ms-azureml-model-error-statuscode header); test run() with the sample request locally"
            )
        else:
            report.hint = f"in Azure the client gets {code}; test run() with the sample request locally"
        report.log_excerpt = analysis.excerpt(text)
        return
    if latency_ms > target.request_timeout_ms:
        report.azure_error = _azure_for_score(target.endpoint_kind, timeout=True)
        report.message = (
            f"{analysis.label}/score took {latency_ms:.0f} ms, more than request_timeout_ms={target.request_timeout_ms}"
        )
        report.hint = "make run() faster or raise request_settings.request_timeout_ms"
        return
    if latency_ms > 0.5 * target.request_timeout_ms:
        report.notes.append(
            f"/score took {latency_ms:.0f} ms, more than half of request_timeout_ms={target.request_timeout_ms}"
        )
    report.ok = True
    report.message = (
        f"{analysis.label}ready after {report.startup_seconds:.1f} s; /score answered 200 in {latency_ms:.0f} ms"
    )


def _request(
    port: int, method: str, path: str, body: bytes | None, content_type: str | None, timeout_s: float
) -> tuple[int, dict[str, str], bytes, float]:
    """One HTTP request; the connection is closed right away (gunicorn lingers otherwise).

    Raises:
        TimeoutError: When no complete response arrived within ``timeout_s``.
    """
    headers = {"Content-Type": content_type} if content_type else {}
    conn = http.client.HTTPConnection(_LOOPBACK, port, timeout=timeout_s)
    start = time.perf_counter()
    try:  # a socket timeout is a TimeoutError (Python >= 3.10)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        elapsed = (time.perf_counter() - start) * 1000.0
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, elapsed
    finally:
        conn.close()
