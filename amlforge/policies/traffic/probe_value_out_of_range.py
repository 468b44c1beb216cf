"""A liveness or readiness probe value below its documented minimum.

## What it does
Checks each value of `liveness_probe` and `readiness_probe` that the file spells out:
`initial_delay`, `period`, `timeout`, `success_threshold` and `failure_threshold` must be at
least 1, and the liveness `success_threshold` must be exactly 1.

A `timeout` that is not shorter than `period` is not reported: no Azure ML or Kubernetes document
limits it (Kubernetes never runs two probes of a container at once), and Microsoft's own
published probe settings use it.

## Why is this bad?
The deployment references give a minimum of 1 for `initial_delay`, `timeout`,
`success_threshold` and `failure_threshold`, and fix the liveness `success_threshold` at 1;
azure-ai-ml checks none of them, so the service rejects the deployment (BadArgument) or the
probes never pass (ResourceNotReady). `period` has no documented minimum; amlforge requires 1
as Kubernetes does, since a period of 0 has no meaning.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
liveness_probe:
  failure_threshold: 0
readiness_probe:
  timeout: 0
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
liveness_probe:
  failure_threshold: 30
readiness_probe:
  timeout: 2
```

## References
- `reference-yaml-deployment-managed-online.md` and `reference-yaml-deployment-kubernetes-online.md`, ProbeSettings.
- reference-yaml-deployment-managed-online.md and the azure-ai-ml 1.35.2 loaders (load_online_endpoint/load_online_deployment) ("probe minimums": not checked by the SDK).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project

_FIELDS = ("initial_delay", "period", "timeout", "success_threshold", "failure_threshold")
_UNITS = {"initial_delay": "s", "period": "s", "timeout": "s"}


@rule("AML308", "probe-value-out-of-range", Severity.ERROR, prevents=("BadArgument", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        for probe_key in ("liveness_probe", "readiness_probe"):
            probe = getattr(dep.spec, probe_key)
            if probe is None:
                continue
            given = {f for f in _FIELDS if dep.at(probe_key, f).spelled_out}
            for field in _FIELDS:
                value = getattr(probe, field)
                if field in given and value < 1:
                    yield Violation(dep.at(probe_key, field),
                                    f"{probe_key}.{field} is {value}; the minimum is 1",
                                    f"set {field} to at least 1 (default {_default(field)})")
            if (probe_key == "liveness_probe" and "success_threshold" in given
                    and probe.success_threshold > 1):
                yield Violation(dep.at(probe_key, "success_threshold"),
                                f"liveness_probe.success_threshold is {probe.success_threshold}; "
                                "it is fixed at 1 for liveness probes",
                                "set it to 1 or remove it")


def _default(field: str) -> str:
    from amlforge.specs.probes import ProbeSettings

    value = ProbeSettings.model_fields[field].default
    return f"{value} {_UNITS[field]}" if field in _UNITS else str(value)
