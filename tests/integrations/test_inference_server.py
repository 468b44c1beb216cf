"""amlforge smoke: the real azureml-inference-server-http on loopback, no mocks.

One smoke environment (azureml-inference-server-http 1.5.1 + scikit-learn, joblib,
numpy, pinned) is built per session with :func:`ensure_smoke_python`. It is cached in
``$AMLFORGE_CACHE_DIR`` when that is set (so a developer builds it once), else in a
temporary directory. Every test runs under a watcher that records each process
carrying this session's marker variable and fails the test if any of them still
exists afterwards, zombies included.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from amlforge.integrations.inference_server import (
    DEFAULT_SERVER_REQUIREMENT,
    SmokeEnvError,
    SmokeInputError,
    SmokeReport,
    SmokeTarget,
    ensure_smoke_python,
    read_requirements_file,
    requirements_from_conda,
    run_smoke,
)
from amlforge.integrations.inference_server import environment as envmod

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="smoke runner is Linux-only"),
]

FIXTURES = Path(__file__).parent / "smoke_fixtures"
SAMPLE = (FIXTURES / "sample-request.json").read_bytes()
SMOKE_REQUIREMENTS = [
    "azureml-inference-server-http==1.5.1",
    "scikit-learn==1.6.1",
    "joblib==1.4.2",
    "numpy==2.2.6",
]
#: Inherited by every process of every server these tests start.
SESSION_MARKER = ("AMLFORGE_TEST_SMOKE_SESSION", uuid.uuid4().hex)


def line_of(script: str, tag: str) -> int:
    """1-based line of the fixture line that carries ``# TAG``."""
    for n, line in enumerate((FIXTURES / script).read_text().splitlines(), 1):
        if tag in line:
            return n
    raise AssertionError(f"{tag} not in {script}")


# ---------------------------------------------------------------------------------------
# process watching


def _marked_pids() -> set[int]:
    needle = f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}".encode()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read().split(b"\0"):
                    found.add(int(entry))
        except OSError:
            continue
    return found


def _exists(pid: int) -> str | None:
    """The process state letter if ``pid`` exists at all (zombies included), else None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()[0]


class ProcessWatcher:
    """Samples /proc while a test runs; remembers every marked process it saw."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.seen |= _marked_pids()
            self._stop.wait(0.05)

    def __enter__(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def leftovers(self, extra: set[int] = frozenset()) -> dict[int, str]:
        """Processes seen (or in ``extra``) that still exist, with their state."""
        left = {}
        for pid in self.seen | _marked_pids() | set(extra):
            state = _exists(pid)
            if state is not None:
                left[pid] = state
        return left


@pytest.fixture(autouse=True)
def no_process_left_behind(request: pytest.FixtureRequest):
    """Fail a test that leaves any server process behind (alive or zombie)."""
    reports: list[SmokeReport] = []
    with ProcessWatcher() as watcher:
        yield reports
    extra = {pid for r in reports for pid in r.server_pids}
    deadline = time.monotonic() + 3
    while (left := watcher.leftovers(extra)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left behind (pid: state): {left}"


# ---------------------------------------------------------------------------------------
# the environment and the model


@pytest.fixture(scope="session")
def smoke_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = None if os.environ.get("AMLFORGE_CACHE_DIR") else tmp_path_factory.mktemp("smoke-cache")
    return ensure_smoke_python(SMOKE_REQUIREMENTS, cache)


@pytest.fixture(scope="session")
def model_dir(smoke_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LogisticRegression trained here, with the smoke environment's scikit-learn."""
    out = tmp_path_factory.mktemp("model")
    subprocess.run([str(smoke_python), str(FIXTURES / "train.py"), str(out / "model.joblib")], check=True, timeout=120)
    return out


@pytest.fixture()
def smoke(smoke_python: Path, model_dir: Path, no_process_left_behind: list[SmokeReport]):
    """Run a fixture script; the report is also handed to the process check."""

    def _run(script: str, **kw) -> SmokeReport:
        env = dict(kw.pop("environment_variables", {}))
        env[SESSION_MARKER[0]] = SESSION_MARKER[1]
        kw.setdefault("model_dir", None if "model_path" in kw else model_dir)
        kw.setdefault("request_body", SAMPLE)
        target = SmokeTarget(
            scoring_script=FIXTURES / script, code_dir=FIXTURES, environment_variables=env, source_label=script, **kw
        )
        report = run_smoke(target, smoke_python)
        no_process_left_behind.append(report)
        json.dumps(report.to_dict())  # always serialisable
        assert report.server_pids, "the report names the server's processes"
        return report

    return _run


def _assert_user_line(report: SmokeReport, script: str, tag: str) -> None:
    assert report.user_file is not None and Path(report.user_file).name == script, report
    assert report.user_line == line_of(script, tag), (report.user_line, report.message, report.log_excerpt)


# ---------------------------------------------------------------------------------------
# a working model


def test_working_sklearn_model_returns_predictions(smoke) -> None:
    report = smoke("score_ok.py", worker_count=2)
    assert report.ok, report.message + "\n" + report.log_excerpt
    assert report.status_code == 200
    assert json.loads(report.response_body) == [0, 1]
    assert report.azure_error is None
    assert report.stage == "score"
    assert 0 < report.startup_seconds < report.probe_budget_s
    assert 0 < report.latency_ms < report.request_timeout_ms
    assert report.server_version == "1.5.1"
    assert len(report.server_pids) == 3  # the gunicorn master and two workers, all stopped


def test_model_path_is_mounted_like_azure(smoke, model_dir: Path) -> None:
    """A model registered from folder 'model' sits at $AZUREML_MODEL_DIR/model/ in Azure."""
    azure_model = model_dir.parent / "azure-layout" / "model"
    azure_model.mkdir(parents=True, exist_ok=True)
    if not (azure_model / "model.joblib").exists():
        (azure_model / "model.joblib").symlink_to(model_dir / "model.joblib")

    staged = smoke("score_azure_layout.py", model_path=azure_model)
    assert staged.ok, staged.message + "\n" + staged.log_excerpt
    assert json.loads(staged.response_body) == [0, 1]

    # The same script against the bare folder only works on the author's machine layout.
    bare = smoke("score_azure_layout.py", model_dir=azure_model)
    assert not bare.ok
    assert bare.azure_error == "ResourceNotReady"
    assert bare.exception.startswith("FileNotFoundError")
    _assert_user_line(bare, "score_azure_layout.py", "FAILS-WITHOUT-AZURE-LAYOUT")
    assert "AZUREML_MODEL_DIR" in bare.hint


# ---------------------------------------------------------------------------------------
# broken scripts: the container never becomes ready


def test_double_forked_setsid_daemon_is_killed(smoke, tmp_path: Path) -> None:
    """A daemon started by init() (fork, setsid(), fork, exec with an empty environment, so no
    marker follows it) does not outlive the smoke run."""
    pid_file = tmp_path / "daemon.pid"
    report = smoke("score_daemon.py", environment_variables={"DAEMON_PID_FILE": str(pid_file)})
    assert report.ok, report.message + "\n" + report.log_excerpt
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 3
    while _exists(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _exists(pid) is None, f"the daemon {pid} is still there ({_exists(pid)})"


def test_syntax_error(smoke) -> None:
    report = smoke("score_syntax_error.py")
    assert not report.ok
    assert report.azure_error == "ResourceNotReady"
    assert report.stage == "init"
    assert report.exception.startswith("SyntaxError")
    _assert_user_line(report, "score_syntax_error.py", "SYNTAX-ERROR")
    assert "Worker failed to boot" in report.log_excerpt


def test_missing_init(smoke) -> None:
    report = smoke("score_no_init.py")
    assert not report.ok
    assert report.azure_error == "ResourceNotReady"
    assert "no init() function" in report.message
    assert "initialise" in report.message  # the near miss, with its line
    _assert_user_line(report, "score_no_init.py", "NO-INIT")
    assert "does not have a init() function defined" in report.log_excerpt  # the server's own words


def test_init_raises(smoke) -> None:
    report = smoke("score_init_raises.py")
    assert not report.ok
    assert report.azure_error == "ResourceNotReady"
    assert report.stage == "init"
    assert report.exception.startswith("FileNotFoundError")
    assert "does-not-exist.pkl" in report.exception
    # The innermost frame of the user's code: load(), called from init().
    _assert_user_line(report, "score_init_raises.py", "INIT-RAISES")
    assert "User's init function failed" in report.log_excerpt


def test_import_not_installed(smoke) -> None:
    report = smoke("score_missing_import.py")
    assert not report.ok
    assert report.azure_error == "ResourceNotReady"
    assert report.exception == "ModuleNotFoundError: No module named 'amlforge_smoke_not_installed_module'"
    _assert_user_line(report, "score_missing_import.py", "MISSING-IMPORT")
    assert "dependencies" in report.hint


def test_init_slower_than_probe_budget(smoke) -> None:
    start = time.monotonic()
    report = smoke("score_slow_init.py", probe_initial_delay_s=1, probe_period_s=1, probe_failure_threshold=2)
    elapsed = time.monotonic() - start
    assert not report.ok
    assert report.azure_error == "ResourceNotReady"
    assert report.stage == "init"
    assert report.probe_budget_s == 3
    assert "probe budget of 3 s" in report.message
    # amlforge asked the worker for its stack when the budget ran out: init() was sleeping here.
    _assert_user_line(report, "score_slow_init.py", "SLOW-INIT")
    assert elapsed < 3 + 10, f"the budget was enforced ({elapsed:.1f} s)"


# ---------------------------------------------------------------------------------------
# scoring failures


@pytest.mark.parametrize(("kind", "azure_error"), [("managed", "HTTP 424"), ("kubernetes", "HTTP 502")])
def test_run_raises_on_the_sample(smoke, kind: str, azure_error: str) -> None:
    report = smoke("score_run_raises.py", endpoint_kind=kind)
    assert not report.ok
    assert report.stage == "score"
    assert report.status_code == 500  # what the server itself answers
    assert report.azure_error == azure_error
    assert report.exception == "KeyError: 'inputs'"
    _assert_user_line(report, "score_run_raises.py", "RUN-RAISES")
    assert "An unexpected error occurred in scoring script" in report.response_body


def test_response_slower_than_request_timeout(smoke) -> None:
    start = time.monotonic()
    report = smoke("score_slow_run.py", request_timeout_ms=500)
    elapsed = time.monotonic() - start
    assert not report.ok
    assert report.stage == "score"
    assert report.azure_error == "HTTP 408"
    assert "request_timeout_ms=500" in report.message
    _assert_user_line(report, "score_slow_run.py", "SLOW-RUN")
    assert elapsed < 5, f"did not wait for run() to finish ({elapsed:.1f} s)"


# ---------------------------------------------------------------------------------------
# the command line, Ctrl-C


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "amlforge", "smoke", *args], capture_output=True, text=True, timeout=120, **kw
    )


def test_cli_json_report_and_exit_codes(smoke_python: Path, model_dir: Path) -> None:
    marker = f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}"
    ok = _cli(
        "--script", "score_ok.py", "--code-dir", str(FIXTURES), "--model-dir", str(model_dir),
        "--request", str(FIXTURES / "sample-request.json"), "--python", str(smoke_python),
        "--env", marker, "--format", "json", "-q",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    data = json.loads(ok.stdout)
    assert data["ok"] is True and data["status_code"] == 200 and json.loads(data["response_body"]) == [0, 1]

    failed = _cli(
        "--script", str(FIXTURES / "score_init_raises.py"), "--model-dir", str(model_dir),
        "--python", str(smoke_python), "--env", marker,
    )  # fmt: skip
    assert failed.returncode == 1
    line = line_of("score_init_raises.py", "INIT-RAISES")
    assert "FAILED  ResourceNotReady" in failed.stdout
    assert f"score_init_raises.py:{line}:" in failed.stdout
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--script", "no-such-score.py"], "no-such-score.py: no such file"),
        (["--script", "score_ok.py", "--code-dir", "no-such-dir"], "no-such-dir: no such directory"),
        (["--script", "score_ok.py", "--request", "sample-request.json", "--python", "/no/python"], "/no/python"),
        (["--script", "score_ok.py", "--request", "score_ok.py"], "not valid JSON"),
        (["--script", "score_ok.py", "--conda-file", "bad-conda.yaml"], "bad-conda.yaml:2:"),
        (["--script", "score_ok.py", "--python", sys.executable], "azureml-inference-server-http is not installed"),
        (["--script", "score_ok.py", "--env", "NO_EQUALS_SIGN"], "expected KEY=VALUE"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "bad-conda.yaml").write_text("dependencies:\n  - pip: a: b\n")
    for name in ("score_ok.py", "sample-request.json"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_sigint_during_startup_stops_everything(smoke_python: Path, model_dir: Path) -> None:
    """Ctrl-C reaches amlforge (the server runs in its own session): it must stop the server."""
    with ProcessWatcher() as watcher:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "amlforge",
                "smoke",
                "--script",
                str(FIXTURES / "score_slow_init.py"),
                "--model-dir",
                str(model_dir),
                "--python",
                str(smoke_python),
                "--env",
                f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # as from a terminal: a job started in the background of a non-interactive shell
            # (a CI runner's `cmd &`) inherits SIGINT ignored, and Python then keeps it ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 30
            while len(watcher.seen) < 2:  # the gunicorn master and its worker (in init)
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    left = {pid: s for pid in watcher.seen if (s := _exists(pid)) is not None}
    assert not left, f"left behind after Ctrl-C: {left}"


# ---------------------------------------------------------------------------------------
# environments


def test_requirements_from_conda_maps_to_pypi_with_notes() -> None:
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            "python=3.11",
            "pip=24.2",
            "scikit-learn=1.5.2",
            "numpy==1.26.4",
            "conda-forge::pandas=2.2.2=py311h_0",
            "pytorch=2.3.1",
            "cudatoolkit=11.8",
            "scipy>=1.11,<2",
            "joblib=1.4",
            {"pip": ["azureml-inference-server-http==1.5.1", "requests"]},
        ],
    }
    reqs, notes = requirements_from_conda(conda)
    assert reqs == [
        "scikit-learn==1.5.2",
        "numpy==1.26.4",
        "pandas==2.2.2",
        "torch==2.3.1",
        "scipy>=1.11,<2",
        "joblib==1.4.*",
        "azureml-inference-server-http==1.5.1",
        "requests",
    ]
    text = "\n".join(notes)
    for needle in ("'python=3.11': no PyPI equivalent", "'pip=24.2'", "'cudatoolkit=11.8': no PyPI equivalent",
                   "as 'torch'", "build string 'py311h_0' ignored", "'joblib=1.4' is not pinned exactly",
                   "pip 'requests' is not pinned"):  # fmt: skip
        assert needle in text, (needle, notes)


def test_read_requirements_file(tmp_path: Path) -> None:
    f = tmp_path / "requirements.txt"
    f.write_text(
        "# pinned\nnumpy==2.2.6  # comment\n\n-r other.txt\n--extra-index-url https://example.invalid/simple\n"
    )
    reqs, notes = read_requirements_file(f)
    assert reqs == ["numpy==2.2.6", "--extra-index-url https://example.invalid/simple"]
    assert "-r other.txt" in notes[0]


def test_cache_key_and_server_requirement() -> None:
    reqs, notes = envmod.normalize_requirements(["numpy==2.2.6", " joblib==1.4.2 ", "numpy==2.2.6"])
    assert reqs == sorted(["joblib==1.4.2", "numpy==2.2.6", DEFAULT_SERVER_REQUIREMENT])
    assert "added azureml-inference-server-http" in notes[0]
    assert envmod.normalize_requirements(["azureml-defaults==1.62.0"])[0] == ["azureml-defaults==1.62.0"]
    key = envmod.smoke_env_key(reqs, "cpython-3.11-linux-x86_64")
    assert key == envmod.smoke_env_key(list(reversed(reqs)), "cpython-3.11-linux-x86_64")
    assert key != envmod.smoke_env_key(reqs, "cpython-3.12-linux-x86_64")


def test_cached_environment_is_reused(smoke_python: Path) -> None:
    root = smoke_python.parent.parent.parent
    start = time.monotonic()
    again = ensure_smoke_python(list(reversed(SMOKE_REQUIREMENTS)), root)
    assert again == smoke_python
    assert time.monotonic() - start < 5
    assert not [p for p in root.iterdir() if p.name.endswith(".building")], "no half-built environment"


def test_failed_build_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    with pytest.raises(SmokeEnvError) as info:
        ensure_smoke_python(["joblib==0.0.1"], tmp_path)  # a version that does not exist
    assert "joblib==0.0.1" in info.value.log_tail
    assert list(tmp_path.iterdir()) == []


def test_script_outside_code_dir_is_bad_input(smoke_python: Path, tmp_path: Path) -> None:
    with pytest.raises(SmokeInputError, match="outside the code directory"):
        run_smoke(SmokeTarget(scoring_script=FIXTURES / "score_ok.py", code_dir=tmp_path), smoke_python)


# ---------------------------------------------------------------------------------------
# the deployment form: amlforge smoke DEPLOYMENT.yml


def test_cli_smokes_a_shipped_example_deployment(smoke_python: Path) -> None:
    """Script, code folder, model path (Azure layout), WORKER_COUNT, probes and sample come from blue.yml."""
    marker = f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}"
    example = Path(__file__).resolve().parents[2] / "examples" / "sklearn-blue-green"
    result = _cli("blue.yml", "--python", str(smoke_python), "--env", marker, "--format", "json", "-q", cwd=example)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["status_code"] == 200
    assert json.loads(data["response_body"]) == [0, 1, 2]
    assert any("sample-request.json" in n for n in data["notes"])


def test_cli_smokes_the_broken_example_and_points_at_its_first_error(smoke_python: Path) -> None:
    marker = f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}"
    example = Path(__file__).resolve().parents[2] / "examples" / "broken"
    result = _cli("blue.yml", "--python", str(smoke_python), "--env", marker, cwd=example)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED  ResourceNotReady" in result.stdout
    # the first thing the container meets is `import lightgbm` on line 6 of score.py
    assert "score.py:6:" in result.stdout and "lightgbm" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["nope.yml"], "no such file or directory"),
    (["."], "several deployments found"),
    ([".", "--deployment", "purple"], "no deployment purple found"),
])
def test_cli_deployment_form_bad_input(args: list[str], expected: str) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "sklearn-blue-green"
    result = _cli(*args, cwd=example)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_smokes_a_deployment_of_an_amlforge_spec(smoke_python: Path) -> None:
    """amlforge smoke amlforge.yaml --deployment NAME renders the spec's az-ml YAML and smokes it."""
    marker = f"{SESSION_MARKER[0]}={SESSION_MARKER[1]}"
    example = Path(__file__).resolve().parents[2] / "examples" / "sklearn-blue-green"
    result = _cli("amlforge.yaml", "--deployment", "green", "--python", str(smoke_python), "--env", marker,
                  "--format", "json", "-q", cwd=example)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and json.loads(data["response_body"]) == [0, 1, 2]
    assert not list(example.glob(".amlforge-smoke*"))
