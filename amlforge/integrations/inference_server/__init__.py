"""Smoke-test a scoring script in the real Azure ML inference server before deploying.

The engine of ``amlforge smoke``. It is independent of amlforge's spec models::

    from amlforge.integrations.inference_server import SmokeTarget, ensure_smoke_python, run_smoke

    python = ensure_smoke_python(["scikit-learn==1.5.2", "joblib==1.4.2"])  # + the server
    report = run_smoke(
        SmokeTarget(scoring_script=Path("src/score.py"), code_dir=Path("src"),
                    model_path=Path("model"), request_body=Path("sample.json").read_bytes()),
        python,
    )
    report.ok, report.azure_error, report.user_line

* :mod:`.environment` builds and caches the isolated virtualenv the server runs in.
* :mod:`.runner` starts ``azmlinfsrv``, probes it, scores, stops it, maps failures to
  Azure errors.

Linux only (process groups and ``/proc``). See ``docs/smoke.md``.
"""

from .environment import (
    DEFAULT_SERVER_REQUIREMENT,
    SmokeEnvError,
    conda_python_version,
    default_cache_root,
    ensure_smoke_python,
    find_base_python,
    read_requirements_file,
    requirements_from_conda,
)
from .runner import RESOURCE_NOT_READY, SmokeInputError, SmokeReport, SmokeTarget, run_smoke

__all__ = [
    "DEFAULT_SERVER_REQUIREMENT",
    "RESOURCE_NOT_READY",
    "SmokeEnvError",
    "SmokeInputError",
    "SmokeReport",
    "SmokeTarget",
    "conda_python_version",
    "default_cache_root",
    "ensure_smoke_python",
    "find_base_python",
    "read_requirements_file",
    "requirements_from_conda",
    "run_smoke",
]
