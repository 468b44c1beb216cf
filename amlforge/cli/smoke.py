"""``amlforge smoke``: run a scoring script in the real inference server before deploying.

A thin layer over :mod:`amlforge.integrations.inference_server`: parse the options,
build or pick the Python environment, call :func:`run_smoke`, print the report.

Exit codes: 0 the smoke test passed, 1 it failed (the report says which Azure error
the deployment would hit), 2 bad input (a missing file, bad option), 3 internal error
(via :func:`amlforge.cli._common.handle_errors`), 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from amlforge.cli._common import handle_errors
from amlforge.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from amlforge.integrations.inference_server import SmokeReport

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _InputError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def _env_pairs(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


@click.command(name="smoke")
@click.argument("deployment_file", required=False, type=click.Path(path_type=Path), metavar="[DEPLOYMENT.yml]")
@click.option("--deployment", "deployment_name", default=None,
              help="Which deployment, when DEPLOYMENT.yml is a folder with several.")
@click.option(
    "--script", "script", required=False, type=click.Path(path_type=Path), help="The scoring script (score.py)."
)
@click.option(
    "--code-dir",
    type=click.Path(path_type=Path),
    help="code_configuration.code directory (default: the script's directory). --script may be relative to it.",
)
@click.option("--model-dir", type=click.Path(path_type=Path), help="Directory used as AZUREML_MODEL_DIR as is.")
@click.option(
    "--model-path",
    type=click.Path(path_type=Path),
    help="The deployment's model.path, staged as Azure mounts it: $AZUREML_MODEL_DIR/<its name>.",
)
@click.option(
    "--env", "env", multiple=True, callback=_env_pairs, metavar="KEY=VALUE", help="Environment variable (repeatable)."
)
@click.option(
    "--request", "request_file", type=click.Path(path_type=Path), help="Sample request body to POST to /score."
)
@click.option("--content-type", default=None, help="Content type of --request (default: application/json).")
@click.option(
    "--python", "python", type=click.Path(path_type=Path), help="Run in this existing environment's interpreter."
)
@click.option(
    "--requirements", "requirements_file", type=click.Path(path_type=Path), help="pip requirements of the environment."
)
@click.option("--conda-file", type=click.Path(path_type=Path), help="Conda file of the environment (mapped to PyPI).")
@click.option("--timeout-ms", type=click.IntRange(min=1), default=None, help="request_timeout_ms [default: 5000].")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="WORKER_COUNT [default: 1].")
@click.option("--probe-initial-delay", type=click.FloatRange(min=0), default=None,
              help="Readiness initial_delay in s [default: 10].")
@click.option("--probe-period", type=click.FloatRange(min=0.01), default=None, help="Readiness period in s [default: 10].")
@click.option("--probe-failure-threshold", type=click.IntRange(min=1), default=None,
              help="Readiness failure_threshold [default: 30].")
@click.option("--endpoint-kind", type=click.Choice(["managed", "kubernetes"]), default=None,
              help="Selects the HTTP codes a scoring failure maps to [default: managed].")
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), help="Environment cache root (default $AMLFORGE_CACHE_DIR/smoke)."
)
@click.option("--log-file", type=click.Path(path_type=Path), help="Keep the full server log here.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress messages on stderr.")
@handle_errors
def command(
    deployment_file: Path | None,
    deployment_name: str | None,
    script: Path | None,
    code_dir: Path | None,
    model_dir: Path | None,
    model_path: Path | None,
    env: dict[str, str],
    request_file: Path | None,
    content_type: str | None,
    python: Path | None,
    requirements_file: Path | None,
    conda_file: Path | None,
    timeout_ms: int | None,
    workers: int | None,
    probe_initial_delay: float | None,
    probe_period: float | None,
    probe_failure_threshold: int | None,
    endpoint_kind: str | None,
    cache_dir: Path | None,
    log_file: Path | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Run a scoring script in the real azureml-inference-server-http and report what Azure would do.

    Give a deployment YAML (its script, code folder, model path, environment variables,
    WORKER_COUNT, readiness probe, request timeout and conda file are used; options
    override them), or the pieces with --script/--code-dir/--model-path. Starts azmlinfsrv on a free 127.0.0.1 port in an isolated environment (--python, or
    a cached virtualenv built from --requirements/--conda-file plus the server), waits
    for readiness within the probe budget, calls GET / and POSTs --request to /score.
    Exit code 0 passed, 1 failed, 2 bad input.
    """
    from amlforge.integrations import inference_server as inf

    def emit(msg: str) -> None:
        if not quiet:
            click.echo(f"amlforge smoke: {msg}", err=True)

    notes: list[str] = []
    if deployment_file is not None:
        from amlforge.integrations.inference_server.from_spec import settings_from_spec

        found = settings_from_spec(deployment_file, deployment_name)
        if found.unfaithful is not None and python is None and requirements_file is None and conda_file is None:
            refusal = found.unfaithful
            where = f"{refusal.location}: " if refusal.location else ""
            _input_error(where + refusal.message, refusal.hint, fmt)
        notes.extend(found.notes)
        script = script or found.script
        code_dir = code_dir or found.code_dir
        if model_dir is None:
            model_path = model_path or found.model_path
        env = {**found.env, **env}
        request_file = request_file or found.request_file
        if python is None and requirements_file is None:
            conda_file = conda_file or found.conda_file
        timeout_ms = timeout_ms or found.timeout_ms
        workers = workers or found.workers
        probe_initial_delay = found.probe_initial_delay if probe_initial_delay is None else probe_initial_delay
        probe_period = probe_period or found.probe_period
        probe_failure_threshold = probe_failure_threshold or found.probe_failure_threshold
        endpoint_kind = endpoint_kind or found.endpoint_kind
    elif script is None:
        _input_error("give a deployment YAML or --script", "amlforge smoke blue.yml, or --script score.py ...", fmt)
    timeout_ms = timeout_ms or 5000
    workers = workers or 1
    probe_initial_delay = 10 if probe_initial_delay is None else probe_initial_delay
    probe_period = probe_period or 10
    probe_failure_threshold = probe_failure_threshold or 30
    endpoint_kind = endpoint_kind or "managed"
    try:
        target = _target(
            script,
            code_dir,
            model_dir,
            model_path,
            env,
            request_file,
            content_type,
            timeout_ms,
            workers,
            probe_initial_delay,
            probe_period,
            probe_failure_threshold,
            endpoint_kind,
            notes,
        )
        if python is not None and (requirements_file or conda_file):
            raise _InputError("--python and --requirements/--conda-file exclude each other", "pick one environment")
        if requirements_file and conda_file:
            raise _InputError("--requirements and --conda-file exclude each other", "pass one of them")
        if python is not None:
            interpreter = _existing_python(python)
        else:
            reqs, base = _requirements(requirements_file, conda_file, notes)
            if not reqs:
                notes.append("no --requirements/--conda-file/--python: the environment has only the inference server")
            try:
                interpreter = inf.ensure_smoke_python(reqs, cache_dir, base_python=base, notes_out=notes, on_event=emit)
            except inf.SmokeEnvError as exc:
                report = inf.SmokeReport(
                    ok=False,
                    stage="environment",
                    message=f"could not build the smoke environment: {exc}",
                    hint=exc.hint or None,
                    log_excerpt=exc.log_tail,
                    notes=notes,
                    source_label=target.source_label,
                )
                _finish(report, fmt)
        report = inf.run_smoke(target, interpreter, on_event=emit, log_file=log_file)
    except (_InputError, inf.SmokeInputError) as exc:
        _input_error(str(exc), getattr(exc, "hint", ""), fmt)
    except KeyboardInterrupt:
        click.echo("amlforge smoke: interrupted; the server was stopped", err=True)
        sys.exit(EXIT_INTERRUPTED)
    report.notes[:0] = notes
    _finish(report, fmt)


def _target(
    script: Path,
    code_dir: Path | None,
    model_dir: Path | None,
    model_path: Path | None,
    env: dict[str, str],
    request_file: Path | None,
    content_type: str | None,
    timeout_ms: int,
    workers: int,
    probe_initial_delay: float,
    probe_period: float,
    probe_failure_threshold: int,
    endpoint_kind: str,
    notes: list[str],
):
    from amlforge.integrations.inference_server import SmokeTarget

    if code_dir is not None and not code_dir.is_dir():
        raise _InputError(f"--code-dir {code_dir}: no such directory", "pass the code_configuration.code directory")
    if not script.is_file() and code_dir is not None and (code_dir / script).is_file():
        script = code_dir / script
    if not script.is_file():
        raise _InputError(
            f"--script {script}: no such file", "pass the scoring script's path (or one relative to --code-dir)"
        )
    code = code_dir if code_dir is not None else script.parent
    if model_dir and model_path:
        raise _InputError("--model-dir and --model-path exclude each other", "--model-path mimics Azure's model layout")
    if model_dir is not None and not model_dir.is_dir():
        raise _InputError(f"--model-dir {model_dir}: no such directory", "pass the folder your model files are in")
    if model_path is not None and not model_path.exists():
        raise _InputError(f"--model-path {model_path}: no such file or directory", "pass the deployment's model.path")
    body = None
    ctype = content_type or "application/json"
    if request_file is not None:
        try:
            from amlforge.specs.files import read_user_bytes

            body = read_user_bytes(request_file, str(request_file), 100 * 1024 * 1024, what="sample requests")
        except UserInputError as exc:
            raise _InputError(f"--request {request_file}: {exc.message}", "pass a sample request file") from None
        if ctype == "application/json":
            try:
                json.loads(body)
            except ValueError as exc:
                raise _InputError(
                    f"--request {request_file}: not valid JSON ({exc})",
                    "fix the sample, or pass --content-type for a non-JSON body",
                ) from None
    else:
        notes.append("no --request: only start-up and the liveness route are checked")
    return SmokeTarget(
        scoring_script=script.resolve(),
        code_dir=code.resolve(),
        model_dir=model_dir.resolve() if model_dir else None,
        model_path=model_path.resolve() if model_path else None,
        environment_variables=env,
        worker_count=workers,
        probe_initial_delay_s=probe_initial_delay,
        probe_period_s=probe_period,
        probe_failure_threshold=probe_failure_threshold,
        request_timeout_ms=timeout_ms,
        request_body=body,
        request_content_type=ctype,
        endpoint_kind=endpoint_kind,
    )


def _existing_python(python: Path) -> Path:
    if python.is_dir():  # an environment directory: take its interpreter
        for cand in (python / "bin" / "python", python / "bin" / "python3"):
            if cand.exists():
                return cand
        raise _InputError(f"--python {python}: no bin/python in this directory", "pass the interpreter itself")
    if not python.exists():
        raise _InputError(f"--python {python}: no such file", "pass the python executable of an existing environment")
    return python


def _requirements(requirements_file: Path | None, conda_file: Path | None, notes: list[str]):
    from amlforge.integrations import inference_server as inf

    if requirements_file is not None:
        try:
            reqs, more = inf.read_requirements_file(requirements_file)
        except UserInputError as exc:
            raise _InputError(f"--requirements {requirements_file}: {exc.message}", "pass a pip requirements file") from None
        except UnicodeDecodeError:
            raise _InputError(
                f"--requirements {requirements_file}: not UTF-8 text", "pass a pip requirements file"
            ) from None
        notes.extend(more)
        return reqs, None
    if conda_file is not None:
        from amlforge.specs.files import read_user_text
        from amlforge.specs.source import parse_yaml

        try:
            data, _ = parse_yaml(read_user_text(conda_file, str(conda_file)), str(conda_file))
        except UserInputError as exc:
            where = f"{exc.location}" if exc.location is not None else str(conda_file)
            raise _InputError(f"--conda-file {where}: {exc.message}", "pass the environment's conda file") from None
        if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
            raise _InputError(f"{conda_file}: no 'dependencies' list", "a conda file maps 'dependencies' to a list")
        reqs, more = inf.requirements_from_conda(data)
        notes.extend(more)
        base, base_notes = inf.find_base_python(inf.conda_python_version(data))
        notes.extend(base_notes)
        return reqs, base
    return [], None


def _input_error(message: str, hint: str, fmt: str) -> NoReturn:
    if fmt == "json":
        click.echo(json.dumps({"ok": False, "stage": "input", "message": message, "hint": hint or None}, indent=2))
    click.echo(f"amlforge smoke: error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(EXIT_INPUT)


def _finish(report: SmokeReport, fmt: str) -> NoReturn:
    if fmt == "json":
        click.echo(report.to_json())
    else:
        click.echo(format_text(report))
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


def format_text(report: SmokeReport) -> str:
    """Human-readable form of a report."""
    lines: list[str] = []
    server = f"azmlinfsrv {report.server_version}, python {report.python_version}" if report.server_version else ""
    if report.ok:
        lines.append(f"PASSED  {report.message}" + (f"  ({server})" if server else ""))
        if report.response_body is not None:
            lines.append(f"  response: {report.response_body[:300]}")
    else:
        what = f"{report.azure_error}  " if report.azure_error else ""
        lines.append(f"FAILED  {what}(stage: {report.stage})")
        lines.append(f"  {report.message}")
        if report.azure_error:
            lines.append(f"  in Azure: {_azure_meaning(report)}")
        if report.hint:
            lines.append(f"  hint: {report.hint}")
        if report.status_code is not None:
            lines.append(f"  /score status {report.status_code}: {(report.response_body or '')[:300]}")
        if report.log_excerpt:
            label = f"server log ({server})" if server else "log"
            lines.append(f"  {label}:")
            lines.extend(f"    | {ln}" for ln in report.log_excerpt.splitlines())
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.log_file:
        lines.append(f"  full server log: {report.log_file}")
    return "\n".join(lines)


def _azure_meaning(report: SmokeReport) -> str:
    code = report.azure_error or ""
    if code == "ResourceNotReady":
        return "the container never becomes ready; the deployment fails with ResourceNotReady"
    if code == "HTTP 424":
        return "scoring requests fail with HTTP 424 (the model container returned a non-200 status)"
    if code == "HTTP 408":
        return f"scoring requests fail with HTTP 408 (slower than request_timeout_ms={report.request_timeout_ms})"
    if code == "HTTP 502":
        return "scoring requests fail with HTTP 502 (exception or crash in run())"
    if code == "HTTP 504":
        return f"scoring requests fail with HTTP 504 (timeout, request_timeout_ms={report.request_timeout_ms})"
    return code
