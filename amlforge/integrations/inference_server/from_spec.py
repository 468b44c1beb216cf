"""Smoke-test settings from a loaded deployment: what ``amlforge smoke DEPLOYMENT.yml`` runs.

Maps the deployment's scoring script, code folder, local model path, environment variables,
worker count, readiness probe, request timeout and conda file to :class:`SmokeTarget` inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from msgspec import Struct, field

from amlforge.errors import Location, UserInputError

SAMPLE_NAMES = ("sample-request.json", "sample_request.json", "sample-input.json")


class DeploymentSmokeSettings(Struct):
    """Everything a smoke run takes from one deployment (None: not given by the spec)."""

    label: str
    script: Path | None = None
    code_dir: Path | None = None
    model_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    timeout_ms: int = 5000
    probe_initial_delay: float = 10
    probe_period: float = 10
    probe_failure_threshold: int = 30
    endpoint_kind: str = "managed"
    conda_file: Path | None = None
    request_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    #: Why the deployment's own environment cannot be rebuilt here (a registered environment,
    #: a Docker build context, an image without a conda file, an inline conda file): a smoke
    #: test without --python/--requirements/--conda-file would run in the wrong environment and
    #: predict a false ResourceNotReady, so the command refuses it up front.
    unfaithful: UserInputError | None = None


def settings_from_spec(path: Path, deployment_name: str | None = None, *, overrides=(), variables=None) -> DeploymentSmokeSettings:
    """Load ``path`` (a deployment YAML or a folder) and take the smoke settings of one deployment.

    Raises:
        UserInputError: unreadable or invalid files, no deployment, several without --deployment.
    """
    if path.is_file() and _is_project_spec(path):
        return _settings_from_project_spec(path, deployment_name)
    from amlforge.specs.loader import LoadOptions, load_project
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.project import is_local_path

    result = load_project([path], LoadOptions(overrides=list(overrides), variables=dict(variables or {})))
    errors = [p for p in result.problems if p.fatal or p.code.startswith("AML1")]
    if errors:
        first = errors[0]
        raise UserInputError(first.message, first.location, first.hint or "run amlforge lint on it first")
    project = result.project
    candidates = [d for d in project.deployments if deployment_name is None or d.spec.name == deployment_name]
    if not candidates:
        names = ", ".join(sorted(d.label for d in project.deployments)) or "none"
        raise UserInputError(f"no deployment {deployment_name or ''} found (deployments: {names})".replace("  ", " "),
                             Location(str(path)), "pass a deployment YAML, or --deployment NAME")
    if len(candidates) > 1:
        names = ", ".join(sorted(d.label for d in candidates))
        raise UserInputError(f"several deployments found ({names})", Location(str(path)),
                             "choose one with --deployment NAME")
    dep = candidates[0]
    spec = dep.spec
    out = DeploymentSmokeSettings(label=f"{dep.doc.display} ({dep.label})", endpoint_kind=spec.kind)
    out.env = dict(spec.environment_variables or {})
    _serving_settings(dep, out)
    code = spec.code_configuration
    if code is None:
        return _no_code_mlflow(project, dep, out)
    if code.code and is_local_path(code.code):
        out.code_dir = project.local_path(dep, code.code).path
        out.script = out.code_dir / code.scoring_script
    else:
        raise UserInputError("code_configuration.code is not a local folder", dep.at("code_configuration").location(),
                             "smoke tests need the scoring code on disk")
    model = spec.model
    if isinstance(model, ModelSpec) and model.path and is_local_path(model.path):
        out.model_path = project.local_path(dep, model.path).path
    elif model is not None:
        out.notes.append(f"model {model!r} is not a local path: the script runs without model files")
    env = project.environment_of(dep)
    conda: Any = env.spec.conda_file if env is not None else None
    supply = "pass --python with an interpreter that has its packages, or --requirements/--conda-file listing them"
    where = dep.at("environment").location()
    if isinstance(conda, str) and is_local_path(conda):
        out.conda_file = project.local_path(env, conda).path
    elif conda is not None:
        out.unfaithful = UserInputError("the environment's conda file is inline or not a local file; amlforge smoke "
                                        "cannot rebuild it", where, supply)
    elif isinstance(spec.environment, str) and env is None:
        out.unfaithful = UserInputError(
            f"environment {spec.environment} is registered in Azure: amlforge smoke cannot resolve its packages "
            "locally, and a run without them would predict a false ResourceNotReady", where, supply)
    elif env is not None and getattr(env.spec, "build", None) is not None:
        out.unfaithful = UserInputError("the environment is built from a Docker build context, which amlforge smoke "
                                        "does not build", where, supply)
    elif env is not None and getattr(env.spec, "image", None):
        out.unfaithful = UserInputError(
            f"the environment has no conda file: its packages come from the image {env.spec.image}, which amlforge "
            "smoke does not run", where, supply)
    return out


def _serving_settings(dep: Any, out: DeploymentSmokeSettings) -> None:
    """Request timeout, workers, readiness probe and sample request of a deployment."""
    spec = dep.spec
    out.timeout_ms = spec.requests.request_timeout_ms
    try:
        out.workers = max(1, int(out.env.get("WORKER_COUNT", "1")))
    except ValueError:
        out.notes.append(f"WORKER_COUNT={out.env['WORKER_COUNT']!r} is not a number: using 1 worker")
    probe = spec.readiness
    out.probe_initial_delay, out.probe_period, out.probe_failure_threshold = (
        probe.initial_delay, probe.period, probe.failure_threshold)
    for name in SAMPLE_NAMES:
        candidate = dep.doc.path.parent / name
        if candidate.is_file():
            out.request_file = candidate
            out.notes.append(f"sample request: {candidate.name} next to the deployment file")
            break


#: The stand-in for the platform's no-code MLflow scoring script (see its docstring).
NO_CODE_SCORER = Path(__file__).parent / "mlflow_no_code" / "score.py"


def _no_code_mlflow(project: Any, dep: Any, out: DeploymentSmokeSettings) -> DeploymentSmokeSettings:
    """Settings for a no-code deployment of a local MLflow model: the platform's way of serving it.

    The environment is built from the model's own conda file (the one ``MLmodel`` names), plus
    the inference server, as the platform does; the scoring script is amlforge's stand-in for the
    platform's MLflow scorer.

    Raises:
        UserInputError: not a local MLflow model with a python_function flavor and a conda file.
    """
    from amlforge.policies.environment._helpers import iter_mlflow_deployments

    where = dep.at().location()
    found = next(((model, info) for d, model, info in iter_mlflow_deployments(project) if d is dep), None)
    if found is None:
        raise UserInputError("the deployment has no code_configuration and its model is not a local MLflow model "
                             "folder (a custom container, or a registered model)", where,
                             "smoke-test a deployment with a scoring script, or give the MLflow model's local path")
    model, info = found
    if info.problem or "python_function" not in info.flavors:
        why = info.problem or f"its MLmodel has no python_function flavor (flavors: {', '.join(info.flavors)})"
        raise UserInputError(f"no-code MLflow deployment whose model cannot be served: {why}",
                             model.at("path").location(), "fix the model (amlforge lint reports it too)")
    if info.env_missing or not info.env_file:
        raise UserInputError("the MLflow model names no conda file that exists in its folder, so its environment "
                             "cannot be rebuilt", model.at("path").location(), "log the model with its conda.yaml")
    folder = info.folder.path
    out.script = NO_CODE_SCORER
    out.code_dir = NO_CODE_SCORER.parent
    out.model_path = folder
    out.conda_file = folder / info.env_file
    out.env = {"MLFLOW_MODEL_FOLDER": folder.name, **out.env}
    out.notes.append("no-code MLflow deployment: the environment is the model's conda file plus the inference "
                     "server, and the scorer is amlforge's stand-in for the platform's MLflow scoring script")
    return out


def _is_project_spec(path: Path) -> bool:
    from amlforge.specs.loader import is_project_spec

    if path.name == "amlforge.yaml":
        return True
    from amlforge.errors import UserInputError
    from amlforge.specs.files import read_user_text
    from amlforge.specs.source import parse_yaml

    try:
        data, _ = parse_yaml(read_user_text(path, str(path)), str(path))
    except UserInputError:
        return False
    return isinstance(data, dict) and is_project_spec(path, data)


def _settings_from_project_spec(path: Path, deployment_name: str | None) -> DeploymentSmokeSettings:
    """Smoke settings for a deployment of an ``amlforge.yaml``: render its az-ml YAML into a
    private folder (paths rebased to the spec, as ``amlforge generate`` does) and read that."""
    import shutil
    import tempfile

    import msgspec.structs

    from amlforge.generators.inputs import read_inputs, relative_posix
    from amlforge.generators.pipeline import render_files
    from amlforge.specs.project_spec import load_spec

    loaded = load_spec(path)
    staging = Path(tempfile.mkdtemp(prefix="amlforge-smoke-"))
    try:
        inputs = read_inputs(loaded, staging)
        inputs = msgspec.structs.replace(inputs, to_spec=relative_posix(loaded.folder, staging))
        for rel, text in render_files(inputs, ("yaml",)).items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text, encoding="utf-8")
        settings = settings_from_spec(staging, deployment_name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    settings.label = f"{path.name} ({settings.label.rsplit('(', 1)[-1].rstrip(')')})"
    if settings.request_file is None:
        for name in SAMPLE_NAMES:
            if (loaded.folder / name).is_file():
                settings.request_file = loaded.folder / name
                settings.notes.append(f"sample request: {name} next to {path.name}")
                break
    return settings


__all__ = ["DeploymentSmokeSettings", "settings_from_spec"]
