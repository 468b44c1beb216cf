"""Shared code of the traffic area (not a rule: the catalog loader skips `_` modules).

Facts used by several rules, from the public Azure ML documentation:
- traffic keys are deployment names, compared case-insensitively (the SDK lower-cases them and
  drops zero entries before sending: ``_strip_zeroes_from_traffic``);
- ``WORKER_COUNT`` defaults to 1 in the AzureML inference server (how-to-inference-server-http.md);
- MLflow no-code deployments (no ``environment``, no ``code_configuration``) install the
  model's conda dependencies when the container starts (how-to-deploy-mlflow-models-online-endpoints.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from amlforge.errors import UserInputError
from amlforge.specs.project import EndpointGroup, Loaded, Project

#: Default worker count of azureml-inference-server-http (``--worker_count 1``).
DEFAULT_WORKER_COUNT = 1

#: request_timeout_ms maxima (how-to-manage-quotas.md): managed, managed prompt flow, Kubernetes.
MANAGED_MAX_TIMEOUT_MS = 180_000
PROMPT_FLOW_MAX_TIMEOUT_MS = 300_000
KUBERNETES_MAX_TIMEOUT_MS = 300_000


def live_targets(mapping: dict[str, int] | None) -> dict[str, int]:
    """Lower-cased deployment names with a positive share (what the SDK actually sends)."""
    return {k.lower(): v for k, v in (mapping or {}).items() if v > 0}


def endpoint_groups(project: Project) -> Iterator[tuple[Loaded[Any], EndpointGroup]]:
    """Endpoints of the run that have a name, with their group (deployments of the run)."""
    for ep in project.endpoints:
        if ep.spec.name:
            group = project.groups.get(ep.spec.name.lower())
            if group is not None:
                yield ep, group


def known_deployments(group: EndpointGroup) -> dict[str, str] | None:
    """Lower-cased name -> name of the group's deployments; ``None`` when the run cannot tell.

    The run cannot tell which deployments exist when it holds none for the endpoint, or when
    one of them takes its name at deploy time (``--name``).
    """
    if not group.deployments or any(not d.spec.name for d in group.deployments):
        return None
    return {d.spec.name.lower(): d.spec.name for d in group.deployments}


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate closest to ``name`` (for "did you mean"), if any is close."""
    lowered = {c.lower(): c for c in candidates}
    import difflib  # here: ~1 ms of start-up, used only to suggest or show a diff
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def is_mlflow_no_code(dep: Loaded[Any]) -> bool:
    """An MLflow no-code deployment: a model, no environment and no code_configuration."""
    spec = dep.spec
    return spec.model is not None and spec.environment is None and spec.code_configuration is None


def is_custom_container(project: Project, dep: Loaded[Any]) -> bool:
    """A deployment whose environment declares its own routes (BYOC): not the AzureML inference server."""
    env = project.environment_of(dep)
    return env is not None and env.spec.inference_config is not None


def uses_inference_server(project: Project, dep: Loaded[Any]) -> bool:
    """Whether the container serves through azureml-inference-server-http (WORKER_COUNT applies).

    True for a scoring script (code_configuration) in a non-BYOC environment and for MLflow
    no-code deployments (the curated MLflow image runs the server). A deployment without
    code_configuration but with an environment is a custom container.
    """
    spec = dep.spec
    if spec.code_configuration is not None:
        return not is_custom_container(project, dep)
    return is_mlflow_no_code(dep)


def worker_count(dep: Loaded[Any]) -> tuple[int | None, bool]:
    """``(WORKER_COUNT, set)``: the value in force (None when not a whole number) and whether it is set."""
    env = dep.spec.environment_variables or {}
    raw = env.get("WORKER_COUNT")
    if raw is None:
        return DEFAULT_WORKER_COUNT, False
    try:
        return int(str(raw).strip()), True
    except ValueError:
        return None, True


def image_of(project: Project, dep: Loaded[Any]) -> str | None:
    """The base image of the deployment's environment, when the run knows it."""
    env = project.environment_of(dep)
    return env.spec.image if env is not None else None


def number_option(project: Project, name: str, default: float, *, minimum: float = 0.0, strict: bool = True) -> float:
    """A numeric rule option (> minimum, or >= with ``strict=False``); a bad value is a user error (exit 2)."""
    value = project.option(name, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        raise UserInputError(f"rule option '{name}' should be a number {'>' if strict else '>='} {minimum:g}, "
                             f"got {value!r}", None, f"set [tool.amlforge.options] {name} = {default:g}")
    return float(value)


def listing(mapping: dict[str, int] | None) -> str:
    """``blue=90, green=10`` for messages."""
    return ", ".join(f"{k}={v}" for k, v in (mapping or {}).items()) or "empty"
