"""Environment locking with conda-lock: the one place that drives conda-lock.

For a conda file (``conda.yaml``), :func:`lock_conda_file` runs conda-lock and writes,
next to the conda file:

* ``conda-lock.yml`` (``<stem>.conda-lock.yml`` when the file is not called ``conda.*``):
  conda-lock's multi-platform lock, every conda and pip package with its URL and hashes;
* ``<stem>.lock.yaml`` (``conda.lock.yaml``): a conda environment file pinned exactly
  (``name=version=build`` for conda, ``name==version`` for pip) for the primary platform,
  with the environment's name and channels. The generated deployment YAML and Dockerfile
  build the image from this file, so nothing is resolved at deploy time.

A lock is keyed by a hash of its inputs (the conda file's content, normalised; the
channels; the platforms; the amlforge and conda-lock versions). The key is recorded in a
header comment of the pinned file, so an unchanged environment is served from disk in
milliseconds without starting conda-lock, and :func:`check_lock` tells ``fresh``,
``missing`` or ``stale`` (with the reason) for ``amlforge lock --check`` and for lint.

How conda-lock is run (see ``docs/locking.md``):

* as a subprocess, ``python -m conda_lock lock ...`` with the current interpreter:
  conda-lock has no stable Python API, mutates ``os.environ`` and logging, and the
  subprocess gives a hard timeout and streamed progress;
* with the conda solver chosen by ``solver``: a real ``micromamba``/``mamba``/``conda``
  from PATH, or the embedded py-rattler shim ``amlforge-rattler-micromamba``
  (:mod:`amlforge.integrations.rattler_micromamba`) when there is none;
* with ``POETRY_REPOSITORIES_PYPISIMPLE_URL`` set from pip's configured index (unless the
  user set it), because some PyPI mirrors serve the PEP 503 simple API but not the
  per-version JSON API that conda-lock's vendored poetry uses by default;
* with the PyPI-to-conda name mapping shipped in ``amlforge/data/pypi_to_conda.json``
  instead of conda-lock's download from raw.githubusercontent.com.

Nothing here imports conda-lock in-process.

Modules: :mod:`.condafile` (reading conda files), :mod:`.lockfiles` (keys, paths, lock
and pinned files, staleness), :mod:`.solver` (solver choice), :mod:`.runner` (the
conda-lock subprocess and failure diagnosis), :mod:`.core` (:func:`lock_conda_file`,
:func:`lock_many`), :mod:`.errors`. Import from this package, not from the modules.
"""


from __future__ import annotations

from amlforge.integrations.condalock._common import (
    DEFAULT_PLATFORMS,
    MAPPING_FILE,
    SHIM_NAME,
)
from amlforge.integrations.condalock.condafile import (
    CondaFile,
    Requirement,
    read_conda_file,
)
from amlforge.integrations.condalock.core import (
    LockProgress,
    LockResult,
    ProgressCallback,
    lock_conda_file,
    lock_many,
)
from amlforge.integrations.condalock.errors import (
    ChannelNotFoundError,
    CondaFileError,
    IndexUnreachableError,
    LockError,
    SolverNotFoundError,
    UnsolvableEnvironmentError,
)
from amlforge.integrations.condalock.lockfiles import (
    LockedPackage,
    LockPaths,
    LockStatus,
    check_lock,
    compute_lock_inputs,
    conda_lock_version,
    lock_paths,
    read_lockfile,
)
from amlforge.integrations.condalock.runner import pip_index_url
from amlforge.integrations.condalock.solver import SolverInfo, resolve_solver

__all__ = [
    "DEFAULT_PLATFORMS",
    "MAPPING_FILE",
    "SHIM_NAME",
    "ChannelNotFoundError",
    "CondaFile",
    "CondaFileError",
    "IndexUnreachableError",
    "LockError",
    "LockPaths",
    "LockProgress",
    "LockResult",
    "LockStatus",
    "LockedPackage",
    "ProgressCallback",
    "Requirement",
    "SolverInfo",
    "SolverNotFoundError",
    "UnsolvableEnvironmentError",
    "check_lock",
    "compute_lock_inputs",
    "conda_lock_version",
    "lock_conda_file",
    "lock_many",
    "lock_paths",
    "pip_index_url",
    "read_conda_file",
    "read_lockfile",
    "resolve_solver",
]
