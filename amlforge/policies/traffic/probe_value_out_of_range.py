"""A liveness or readiness probe value below its documented minimum.

## What it does
Checks each value of `liveness_probe` and `readiness_probe` that the file spells out:
`initial_delay`, `period`, `timeout`, `success_threshold` and `failure_threshold` must be at
least 1, and the liveness `success_threshold` must be exactly 1. It also warns when `timeout`
is not shorter than `period`.

## Why is this bad?
The deployment references give a minimum of 1 for `initial_delay`, `timeout`,
`success_threshold` and `failure_threshold`, and fix the liveness `success_threshold` at 1;
azure-ai-ml checks none of them, so the service rejects the deployment (BadArgument) or the
probes never pass (ResourceNotReady). `period` has no documented minimum; amlforge requires 1
as Kubernetes does, since a period of 0 has no meaning.

`timeout >= period` is a warning, not an error: no Azure ML document states that the service
rejects it (**unconfirmed**). A probe that may take longer than the interval between probes
is still waiting when the next one is due, so a slow answer keeps the instance Unready
(readiness) or gets it restarted (liveness).

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
liveness_probe:
  failure_threshold: 0
readiness_probe:
  period: 5
  timeout: 10
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
  period: 10
  timeout: 5
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
            if (given & {"timeout", "period"} and probe.timeout >= 1 and probe.period >= 1
                    and probe.timeout >= probe.period):
                field = "timeout" if "timeout" in given else "period"
                yield Violation(dep.at(probe_key, field),
                                f"{probe_key}.timeout ({probe.timeout} s) is not shorter than its period "
                                f"({probe.period} s): a slow probe is still running when the next one is due",
                                f"set timeout below {probe.period} s, or raise period above {probe.timeout} s",
                                severity=Severity.WARNING)


def _default(field: str) -> str:
    from amlforge.specs.probes import ProbeSettings

    value = ProbeSettings.model_fields[field].default
    return f"{value} {_UNITS[field]}" if field in _UNITS else str(value)
