"""The isolated Python environment a smoke test runs in.

amlforge never runs a user's scoring script in its own interpreter. Either the
user names an environment (``--python``), or amlforge builds a virtualenv from
the deployment environment's pinned dependencies plus the inference server and
caches it:

* pip requirements are used as written (pinned ones are the point: the smoke test
  then runs the versions the deployment will);
* conda packages are mapped to their PyPI equivalents where they have one
  (``scikit-learn=1.5.2`` -> ``scikit-learn==1.5.2``, ``pytorch`` -> ``torch``), and
  the ones that have none (``python``, ``pip``, ``cudatoolkit``, system libraries)
  are reported as notes instead of being silently dropped;
* the cache key is a hash of the sorted requirement strings, the interpreter
  (implementation, major.minor) and the platform; the default cache is
  ``$AMLFORGE_CACHE_DIR/smoke/<key>`` or ``~/.cache/amlforge/smoke/<key>``;
* an environment is built in a temporary directory next to its final place and
  renamed into place only once complete, so the cache never holds a half-built
  environment, and two concurrent builds of the same key are harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: Added when the requirements name no inference server (1.5.1 is the current release).
DEFAULT_SERVER_REQUIREMENT = "azureml-inference-server-http==1.5.1"

#: Distributions that provide the ``azmlinfsrv`` server.
SERVER_DISTRIBUTIONS = frozenset({"azureml-inference-server-http", "azureml-defaults"})

_CACHE_FORMAT = 1
_MARKER_FILE = "amlforge-smoke.json"
_REQUIREMENTS_FILE = "amlforge-requirements.txt"
_PIP_LOG = "amlforge-pip.log"

#: Conda package name -> PyPI distribution name, where they differ.
CONDA_TO_PYPI: dict[str, str] = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "pytables": "tables",
    "msgpack-python": "msgpack",
    "matplotlib-base": "matplotlib",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "python-graphviz": "graphviz",
    "pyqt": "PyQt5",
    "tensorflow-base": "tensorflow",
    "ruamel_yaml": "ruamel.yaml",
    "typing_extensions": "typing-extensions",
    "scikit-learn-intelex": "scikit-learn-intelex",
    "lightgbm": "lightgbm",
}

#: Conda packages with no PyPI equivalent worth installing, and why.
CONDA_ONLY: dict[str, str] = {
    "python": "the interpreter itself; the smoke environment uses the base interpreter amlforge picks",
    "pip": "the installer, present in every virtualenv",
    "cudatoolkit": "CUDA runtime libraries; PyPI wheels of GPU frameworks bundle their own (no GPU here)",
    "cuda-toolkit": "CUDA runtime libraries; PyPI wheels of GPU frameworks bundle their own (no GPU here)",
    "cudnn": "cuDNN libraries; PyPI wheels of GPU frameworks bundle their own",
    "nccl": "NCCL libraries; PyPI wheels of GPU frameworks bundle their own",
    "pytorch-cuda": "conda meta-package selecting a CUDA build of pytorch",
    "cpuonly": "conda meta-package selecting a CPU build of pytorch",
    "mkl": "Intel MKL math library; PyPI wheels of numpy/scipy bundle OpenBLAS instead",
    "mkl-service": "MKL runtime controls; only meaningful with conda's MKL builds",
    "nomkl": "conda meta-package",
    "blas": "conda BLAS selector meta-package",
    "libblas": "system BLAS library",
    "libcblas": "system BLAS library",
    "liblapack": "system LAPACK library",
    "openblas": "system BLAS library; PyPI wheels bundle their own",
    "libopenblas": "system BLAS library; PyPI wheels bundle their own",
    "numpy-base": "part of conda's numpy build (the PyPI numpy covers it)",
    "intel-openmp": "OpenMP runtime for conda's MKL builds",
    "llvm-openmp": "OpenMP runtime library",
    "libgcc": "C runtime library",
    "libgcc-ng": "C runtime library",
    "libstdcxx-ng": "C++ runtime library",
    "libgfortran-ng": "Fortran runtime library",
    "libgomp": "OpenMP runtime library",
    "_libgcc_mutex": "conda internal package",
    "_openmp_mutex": "conda internal package",
    "ld_impl_linux-64": "linker, part of the conda toolchain",
    "openssl": "system library",
    "ca-certificates": "system certificate store",
    "ncurses": "system library",
    "readline": "system library",
    "sqlite": "system library",
    "tk": "system library",
    "xz": "system library",
    "zlib": "system library",
    "bzip2": "system library",
    "libffi": "system library",
    "libuuid": "system library",
    "libzlib": "system library",
    "tzdata": "system time-zone data (conda versions such as 2024a are not PyPI versions)",
    "gcc": "compiler",
    "gxx": "compiler",
    "make": "build tool",
    "git": "version-control tool",
    "curl": "command-line tool",
    "nodejs": "JavaScript runtime",
    "r-base": "R interpreter",
    "conda": "the conda installer",
    "mamba": "the mamba installer",
    "arrow-cpp": "C++ library (pyarrow on PyPI bundles it)",
    "libprotobuf": "C++ library (protobuf on PyPI is the Python package)",
}


class SmokeEnvError(RuntimeError):
    """The smoke environment could not be built (pip failed, no interpreter, ...).

    Attributes:
        log_tail: The end of pip's output (its ``ERROR:`` lines first).
        hint: What the user can do about it.
    """

    def __init__(self, message: str, *, log_tail: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail
        self.hint = hint


# ---------------------------------------------------------------------------------------
# requirement lists


def canonical_name(requirement: str) -> str | None:
    """PEP 503 normalised distribution name of a requirement line (None for option lines)."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not m or requirement.lstrip().startswith("-"):
        return None
    return re.sub(r"[-_.]+", "-", m.group(1)).lower()


def is_pinned(requirement: str) -> bool:
    """True for ``name==1.2.3`` / ``name===x`` (a wildcard ``==1.2.*`` is not a pin)."""
    spec = requirement.split(";", 1)[0]
    m = re.search(r"===?\s*([^\s,;]+)", spec)
    return bool(m) and "*" not in m.group(1) and "," not in spec and "<" not in spec and ">" not in spec


def read_requirements_file(path: Path) -> tuple[list[str], list[str]]:
    """Read a pip requirements file into requirement strings.

    Comments, blank lines and line continuations are handled. Options that pull in
    other files or local trees (``-r``, ``-c``, ``-e``) are skipped with a note, since
    their content would not be part of the cache key. Index options
    (``--index-url``, ``--extra-index-url``, ``--find-links``) are kept.

    Args:
        path: The requirements file.

    Returns:
        ``(requirements, notes)``.

    Raises:
        UserInputError: If the file cannot be read (not a regular file, too large, ...).
        UnicodeDecodeError: If it is not UTF-8.
    """
    from amlforge.specs.files import read_user_bytes

    text = read_user_bytes(path, str(path)).decode("utf-8")
    text = re.sub(r"\\\n", " ", text)
    reqs: list[str] = []
    notes: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if re.match(r"-(r|c|e)\b|--(requirement|constraint|editable)\b", line):
            notes.append(f"{path}: skipped '{line}' (nested files and editable installs are not supported)")
            continue
        reqs.append(line)
    return reqs, notes


def _conda_spec_to_pip(spec: str) -> tuple[str | None, str | None]:
    """Map one conda match spec to a pip requirement. Returns ``(requirement, note)``."""
    original = spec
    spec = spec.strip()
    if "::" in spec:
        spec = spec.split("::", 1)[1]
    spec = re.sub(r"\[.*\]$", "", spec).strip()  # name[build=...] selectors
    m = re.match(r"^([A-Za-z0-9_][A-Za-z0-9._-]*)\s*(.*)$", spec)
    if not m:
        return None, f"conda dependency '{original}': could not parse it; skipped"
    name, rest = m.group(1), m.group(2).strip()
    lname = name.lower()
    if lname in CONDA_ONLY:
        return None, f"conda '{original}': no PyPI equivalent ({CONDA_ONLY[lname]}); not installed"
    if lname.startswith(("cuda-", "libcu", "libnv", "r-")):
        return None, f"conda '{original}': no PyPI equivalent (CUDA/system/R package); not installed"
    pypi = CONDA_TO_PYPI.get(lname, name)
    note = None
    if pypi != name:
        note = f"conda '{original}' installed from PyPI as '{pypi}'"

    version = ""
    if rest:
        parts = rest.split() if " " in rest and not rest.startswith(("=", "<", ">", "!")) else [rest]
        if len(parts) > 1:  # "name 1.2.3 build"
            rest = parts[0]
            build_note = f"conda '{original}': build string '{parts[1]}' ignored"
            note = f"{note}; {build_note}" if note else build_note
        if "|" in rest:
            return None, f"conda '{original}': alternative versions ('|') have no pip form; skipped"
        if rest.startswith("=") and not rest.startswith("=="):
            body = rest[1:]
            if "=" in body:  # name=1.2.3=build
                body, build = body.split("=", 1)
                build_note = f"conda '{original}': build string '{build}' ignored"
                note = f"{note}; {build_note}" if note else build_note
            # conda "=1.5.2" means 1.5.2 or 1.5.2.x; an exact three-part version is the usual intent.
            if body.endswith(".*") or body.count(".") >= 2:
                version = f"=={body}"
            else:
                version = f"=={body}.*"
        elif rest[0].isdigit():  # "name 1.2.*" (space form, already split)
            version = f"=={rest}"
        else:
            version = rest.replace(" ", "")
    req = f"{pypi}{version}"
    return req, note


def requirements_from_conda(conda: Mapping) -> tuple[list[str], list[str]]:
    """Pip requirements equivalent to a conda environment file.

    Args:
        conda: The parsed conda YAML (``{"dependencies": [...]}``).

    Returns:
        ``(requirements, notes)``: pip requirement strings (conda packages first, then the
        ``pip:`` section as written), and human-readable notes about conda packages that
        have no PyPI equivalent, were renamed, are unpinned, or could not be mapped.
    """
    reqs: list[str] = []
    notes: list[str] = []
    deps = conda.get("dependencies") if isinstance(conda, Mapping) else None
    if not isinstance(deps, list):
        return reqs, ["conda file has no 'dependencies' list"]
    pip_section: list[str] = []
    for dep in deps:
        if isinstance(dep, Mapping):
            for key, value in dep.items():
                if key == "pip" and isinstance(value, list):
                    pip_section.extend(str(v) for v in value)
                else:
                    notes.append(f"conda dependency entry '{key}' is not supported; skipped")
            continue
        if not isinstance(dep, str):
            notes.append(f"conda dependency {dep!r} is not a string; skipped")
            continue
        req, note = _conda_spec_to_pip(dep)
        if note:
            notes.append(note)
        if req:
            if not is_pinned(req):
                notes.append(
                    f"conda '{dep}' is not pinned exactly; the smoke environment may differ from the deployment's"
                )
            reqs.append(req)
    for line in pip_section:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.match(r"-(r|c|e)\b|--(requirement|constraint|editable)\b", line):
            notes.append(f"pip '{line}': nested files and editable installs are not supported; skipped")
            continue
        if canonical_name(line) and not is_pinned(line):
            notes.append(f"pip '{line}' is not pinned; the smoke environment may differ from the deployment's")
        reqs.append(line)
    return reqs, notes


def conda_python_version(conda: Mapping) -> str | None:
    """The ``major.minor`` Python version a conda file pins (``python=3.11`` -> ``"3.11"``), if any."""
    deps = conda.get("dependencies") if isinstance(conda, Mapping) else None
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, str):
            m = re.match(r"^\s*(?:\S+::)?python\s*(?:==?|\s)\s*(\d+)\.(\d+)", dep)
            if m:
                return f"{m.group(1)}.{m.group(2)}"
    return None


def find_base_python(version: str | None = None) -> tuple[Path, list[str]]:
    """Pick the interpreter to build a smoke environment from.

    Args:
        version: ``"3.11"``-style version the environment pins, if any.

    Returns:
        ``(interpreter, notes)``. Prefers amlforge's own interpreter when it matches
        (only as the *base* of a new virtualenv: none of amlforge's packages are
        visible in it), then ``python3.X`` on PATH; otherwise amlforge's interpreter
        with a note about the mismatch.
    """
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version is None or version == here:
        return Path(sys.executable), []
    found = shutil.which(f"python{version}")
    if found:
        return Path(found), []
    return Path(sys.executable), [
        f"the environment pins python {version} but no python{version} is on PATH; "
        f"the smoke environment uses python {here}"
    ]


# ---------------------------------------------------------------------------------------
# the cached virtualenv


def default_cache_root() -> Path:
    """``$AMLFORGE_CACHE_DIR/smoke``, else ``$XDG_CACHE_HOME/amlforge/smoke``, else ``~/.cache/amlforge/smoke``."""
    root = os.environ.get("AMLFORGE_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "smoke"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "amlforge" / "smoke"


def normalize_requirements(requirements: Sequence[str]) -> tuple[list[str], list[str]]:
    """Strip, de-duplicate and sort requirements; add the inference server if none is named.

    Returns:
        ``(requirements, notes)``.
    """
    reqs = sorted({r.strip() for r in requirements if r and r.strip() and not r.strip().startswith("#")})
    notes: list[str] = []
    names = {canonical_name(r) for r in reqs}
    if not names & SERVER_DISTRIBUTIONS:
        reqs = sorted([*reqs, DEFAULT_SERVER_REQUIREMENT])
        notes.append(
            f"the environment names no inference server; added {DEFAULT_SERVER_REQUIREMENT} "
            "(online deployments need azureml-inference-server-http in the image or conda file)"
        )
    return reqs, notes


def _interpreter_tag(python: Path) -> str:
    if Path(python) == Path(sys.executable):
        impl, ver = platform.python_implementation().lower(), f"{sys.version_info[0]}.{sys.version_info[1]}"
    else:
        code = "import platform,sys;print(platform.python_implementation().lower(), '%d.%d' % sys.version_info[:2])"
        try:
            out = subprocess.run(
                [str(python), "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True
            ).stdout.split()
            impl, ver = out[0], out[1]
        except (OSError, subprocess.SubprocessError, IndexError) as exc:
            raise SmokeEnvError(
                f"cannot run the base interpreter {python}: {exc}",
                hint="pass an existing Python 3.9+ interpreter",
            ) from exc
    return f"{impl}-{ver}-{sys.platform}-{platform.machine()}"


def smoke_env_key(requirements: Sequence[str], interpreter_tag: str) -> str:
    """Cache key: hash of the sorted requirement strings and the interpreter tag."""
    payload = json.dumps(
        {"format": _CACHE_FORMAT, "requirements": sorted(requirements), "python": interpreter_tag},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _env_python(env: Path) -> Path:
    return env / "bin" / "python"


def _is_complete(env: Path) -> bool:
    py = _env_python(env)
    return (env / _MARKER_FILE).is_file() and py.exists()  # exists() follows the symlink to the base


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE", "PIP_USER"):
        env.pop(k, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


#: pip's log lines that say which step an install is at (shown as progress while it runs).
_PIP_STEPS = ("Collecting ", "Downloading ", "Building wheel", "Installing collected packages", "Successfully installed")


def _run_logged(cmd: list[str], log: Path, timeout_s: float | None,
                on_event: Callable[[str], None] | None = None, every_s: float = 5.0) -> int:
    """Run ``cmd`` with its output appended to ``log``; with ``on_event``, report pip's steps
    (Collecting ..., Installing ...) as they appear, and at least every ``every_s`` seconds that
    it is still running, so that a cold build is never minutes of silence."""
    with open(log, "ab") as fh:
        fh.write(("$ " + " ".join(cmd) + "\n").encode())
        fh.flush()
        start_offset = fh.tell()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_clean_env())
        try:
            if on_event is None:
                return proc.wait(timeout=timeout_s)
            return _wait_reporting(proc, log, start_offset, timeout_s, on_event, every_s)
        except BaseException:
            proc.kill()
            proc.wait()
            raise


def _wait_reporting(proc: subprocess.Popen, log: Path, offset: int, timeout_s: float | None,
                    on_event: Callable[[str], None], every_s: float) -> int:
    started = last = time.monotonic()
    pending = b""
    while True:
        try:
            return proc.wait(timeout=min(1.0, every_s))
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if timeout_s is not None and now - started > timeout_s:
            raise subprocess.TimeoutExpired(proc.args, timeout_s)
        try:
            with open(log, "rb") as reader:
                reader.seek(offset)
                chunk = reader.read()
        except OSError:
            chunk = b""
        offset += len(chunk)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        steps = [ln.decode("utf-8", "replace").strip() for ln in lines]
        steps = [s for s in steps if s.startswith(_PIP_STEPS)]
        for step in steps:
            on_event(f"  pip: {step[:160]}")
            last = now
        if now - last >= every_s:
            on_event(f"  still installing ({now - started:.0f} s)")
            last = now


def _pip_error_tail(log: Path, limit: int = 25) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [ln for ln in lines if ln.startswith("ERROR") or "error:" in ln.lower()]
    return "\n".join(errors[:10] if errors else lines[-limit:])


def _relocate(tmp: Path, final: Path) -> None:
    """Rewrite the build directory's absolute path to the final one in the env's scripts."""
    old, new = str(tmp).encode(), str(final).encode()
    candidates = [tmp / "pyvenv.cfg", *(p for p in (tmp / "bin").iterdir() if p.is_file() and not p.is_symlink())]
    for path in candidates:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) > 1_000_000 or b"\0" in data[:1024] or old not in data:
            continue
        mode = path.stat().st_mode
        path.write_bytes(data.replace(old, new))
        os.chmod(path, mode)


def ensure_smoke_python(
    requirements: Sequence[str],
    cache_dir: Path | None = None,
    *,
    base_python: Path | None = None,
    notes_out: list[str] | None = None,
    on_event: Callable[[str], None] | None = None,
    pip_timeout_s: float | None = 1800,
) -> Path:
    """Return the interpreter of a cached virtualenv with ``requirements`` and the server.

    Builds it on first use: ``<base_python> -m venv`` in a temporary directory inside
    the cache root, ``pip install -r`` the requirements, rewrite the build path in
    its scripts, then rename the directory to ``<cache root>/<key>``. A failed or
    interrupted build leaves nothing in the cache.

    Args:
        requirements: pip requirement strings (see :func:`requirements_from_conda` and
            :func:`read_requirements_file`). ``azureml-inference-server-http`` is added
            (:data:`DEFAULT_SERVER_REQUIREMENT`) unless it or ``azureml-defaults`` is named.
        cache_dir: Cache root; default :func:`default_cache_root`.
        base_python: Interpreter to build from; default amlforge's own (see
            :func:`find_base_python`).
        notes_out: If given, notes (added server, ...) are appended to it.
        on_event: Progress callback, called with one-line messages.
        pip_timeout_s: Give up on ``pip install`` after this many seconds.

    Returns:
        Path of the environment's ``bin/python``.

    Raises:
        SmokeEnvError: If the environment cannot be built (with pip's error lines).
    """
    emit = on_event or (lambda _msg: None)
    base = Path(base_python) if base_python else Path(sys.executable)
    reqs, notes = normalize_requirements(requirements)
    if notes_out is not None:
        notes_out.extend(notes)
    root = Path(cache_dir) if cache_dir else default_cache_root()
    key = smoke_env_key(reqs, _interpreter_tag(base))
    final = root / key
    if _is_complete(final):
        emit(f"using cached smoke environment {final}")
        return _env_python(final)
    if final.exists():  # e.g. its base interpreter was removed: move it aside and rebuild
        stale = root / f".{key}.stale-{os.getpid()}-{time.monotonic_ns()}"
        try:
            final.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".building", dir=root))
    renamed = False
    try:
        emit(f"building smoke environment {final} ({len(reqs)} requirements; this takes a while the first time)")
        log = tmp / _PIP_LOG
        if _run_logged([str(base), "-m", "venv", str(tmp)], log, 600) != 0:
            raise SmokeEnvError(
                f"'{base} -m venv' failed",
                log_tail=_pip_error_tail(log),
                hint="on Debian/Ubuntu install the python3-venv package, or pass --python",
            )
        req_file = tmp / _REQUIREMENTS_FILE
        req_file.write_text("\n".join(reqs) + "\n", encoding="utf-8")
        cmd = [
            str(_env_python(tmp)),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--progress-bar",
            "off",
            "-r",
            str(req_file),
        ]
        try:
            rc = _run_logged(cmd, log, pip_timeout_s, on_event=on_event)
        except subprocess.TimeoutExpired as exc:
            raise SmokeEnvError(
                f"pip install did not finish within {pip_timeout_s:.0f} s",
                log_tail=_pip_error_tail(log),
                hint="check network access to the package index",
            ) from exc
        if rc != 0:
            raise SmokeEnvError(
                "pip could not install the environment's requirements",
                log_tail=_pip_error_tail(log),
                hint=(
                    "a version that does not exist on PyPI or a conflict with the inference server's own "
                    "dependencies (flask, pydantic, ...) would also fail the image build in Azure; a conda-only "
                    "package needs --python with an environment you built yourself"
                ),
            )
        _relocate(tmp, final)
        (tmp / _MARKER_FILE).write_text(
            json.dumps(
                {"key": key, "requirements": reqs, "base_python": str(base), "created": time.time()},
                indent=2,
            ),
            encoding="utf-8",
        )
        try:
            tmp.rename(final)
            renamed = True
        except OSError:
            # Someone else finished the same key first; theirs is as good as ours.
            if not _is_complete(final):
                raise
        emit(f"built smoke environment {final}")
        return _env_python(final)
    finally:
        if not renamed:
            shutil.rmtree(tmp, ignore_errors=True)
