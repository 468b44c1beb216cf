"""Probes that give up before the container can load its model.

## What it does
Estimates how long a container needs before it can answer its probes, and compares that
with the time each probe allows: `initial_delay + failure_threshold x period` (310 s with
the defaults). The estimate is a heuristic:

- the model's size (files on disk for a local model path, or the `model_sizes` option for
  a registered model) divided by a load throughput, `model_load_mb_per_s` (default 50 MB/s:
  deserialising a pickle or moving weights to a GPU, not raw disk speed);
- plus `conda_at_start_seconds` (default 300 s) for MLflow no-code deployments (no
  `environment`, no `code_configuration`), whose conda dependencies are installed when the
  container starts.

Deployments whose model size is unknown and that install nothing at start are not checked.

## Why is this bad?
"Container initialization takes too long, so the readiness or liveness probe fails beyond the
failure threshold": the liveness probe restarts the container before `init()` returns, the
readiness probe keeps it Unready, and the deployment fails with ResourceNotReady after 10-20
minutes. A large model with a tight readiness probe (for example `failure_threshold: 3`) is
the usual case.

## Example
```yaml
# model/ holds 4 GB of weights: loading takes about 80 s at 50 MB/s
name: blue
endpoint_name: my-endpoint
model:
  path: ./model
instance_type: Standard_NC4as_T4_v3
instance_count: 1
readiness_probe:
  initial_delay: 10
  period: 10
  failure_threshold: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
model:
  path: ./model
instance_type: Standard_NC4as_T4_v3
instance_count: 1
readiness_probe:
  initial_delay: 30
  period: 10
  failure_threshold: 30
```

## Options
- `model_load_mb_per_s` (number, default 50): model bytes a container loads per second, in
  MB. A heuristic; measure your own `init()` and set it in `[tool.amlforge.options]`.
- `conda_at_start_seconds` (number, default 300): time an MLflow no-code container spends
  installing conda dependencies before serving. A heuristic; the docs only say the start is
  slow and ask for generous probes.
- `model_sizes` (table, shared): sizes of registered models, e.g. `{"azureml:llm:3" = "14GiB"}`.

## References
- `how-to-troubleshoot-online-endpoints.md`, ERROR: ResourceNotReady; reference-yaml-deployment-managed-online.md (probe budget) and how-to-troubleshoot-online-endpoints.md.
- how-to-deploy-mlflow-models-online-endpoints.md (MLflow dependencies are "installed at container start ... use generous probes").
"""

import math
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import is_mlflow_no_code, number_option
from amlforge.specs.probes import ProbeSettings
from amlforge.specs.project import Project

DEFAULT_MB_PER_S = 50.0
DEFAULT_CONDA_SECONDS = 300.0
_FIELDS = ("initial_delay", "period", "timeout", "success_threshold", "failure_threshold")


@rule("AML309", "probe-budget-too-short", Severity.WARNING, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    mb_per_s = number_option(project, "model_load_mb_per_s", DEFAULT_MB_PER_S)
    conda_seconds = number_option(project, "conda_at_start_seconds", DEFAULT_CONDA_SECONDS, strict=False)
    for dep in project.deployments:
        no_code = is_mlflow_no_code(dep)
        size = project.model_size(dep) if dep.spec.model is not None else None
        if size is None and not no_code:
            continue
        parts: list[str] = []
        need = 0.0
        if size is not None:
            load = size[0] / 1e6 / mb_per_s
            need += load
            if load >= 1:
                parts.append(f"loading the {_human(size[0])} model at {mb_per_s:g} MB/s: ~{load:.0f} s")
        if no_code:
            need += conda_seconds
            if conda_seconds > 0:
                parts.append(f"installing the MLflow model's conda dependencies at start: ~{conda_seconds:.0f} s")
        if need < 1 or not parts:
            continue
        estimate = f"it needs about {need:.0f} s ({'; '.join(parts)})"
        reported_default = False
        for probe_key in ("liveness_probe", "readiness_probe"):
            given: ProbeSettings | None = getattr(dep.spec, probe_key)
            probe = given or ProbeSettings()
            if any(getattr(probe, f) < 1 for f in _FIELDS):
                continue  # AML308 reports the value itself
            budget = probe.budget_seconds
            if budget >= need:
                continue
            threshold = max(1, math.ceil((need - probe.initial_delay) / probe.period))
            formula = f"{probe.initial_delay} + {probe.failure_threshold} x {probe.period} = {budget} s"
            if given is not None:
                yield Violation(
                    dep.at(probe_key, "failure_threshold"),
                    f"{probe_key} gives the container {formula} to start, but {estimate}",
                    f"raise {probe_key}.failure_threshold to at least {threshold} "
                    f"({probe.initial_delay} + {threshold} x {probe.period} = "
                    f"{probe.initial_delay + threshold * probe.period} s), or initial_delay",
                )
            elif not reported_default:
                both = dep.spec.liveness_probe is None and dep.spec.readiness_probe is None
                reported_default = both
                what = "the default probes give" if both else f"the default {probe_key} gives"
                add = "liveness_probe and readiness_probe" if both else probe_key
                yield Violation(
                    dep.at("model"),
                    f"{what} the container {formula} to start, but {estimate}",
                    f"add {add} with failure_threshold: {threshold} (or a longer initial_delay)",
                )


def _human(size: int) -> str:
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
