"""A `request_timeout_ms` outside the service limits.

## What it does
Checks `request_settings.request_timeout_ms` against the documented limits: at least 1, at
most 180000 ms (180 s) on managed deployments and 300000 ms (300 s) on Kubernetes. Managed
prompt-flow deployments may use 300000 ms; amlforge recognises them by a base image or a
deployment property whose name contains `promptflow`.

## Why is this bad?
The service rejects a deployment whose timeout exceeds the maximum (BadArgument); azure-ai-ml
does not check it. A value of 0 or below is not a timeout. Requests that take longer than the
timeout end with HTTP 408 (managed) or HTTP 504 (Kubernetes), so the fix for slow models is a
faster model, not a timeout above the cap.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
request_settings:
  request_timeout_ms: 999999
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
request_settings:
  request_timeout_ms: 180000
```

## References
- how-to-manage-quotas.md ("Max request timeout": 180 s managed, 300 s prompt flow and Kubernetes), reference-yaml-deployment-managed-online.md, how-to-troubleshoot-online-endpoints.md (408, 504).
- `reference-yaml-deployment-managed-online.md` RequestSettings ("the maximum value allowed is 180000").
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import (
    KUBERNETES_MAX_TIMEOUT_MS,
    MANAGED_MAX_TIMEOUT_MS,
    PROMPT_FLOW_MAX_TIMEOUT_MS,
    image_of,
)
from amlforge.specs.project import Loaded, Project


def _is_prompt_flow(project: Project, dep: Loaded) -> bool:
    image = image_of(project, dep) or ""
    props = dep.spec.properties or {}
    return "promptflow" in image.lower() or any("promptflow" in k.lower() for k in props)


@rule("AML306", "request-timeout-out-of-range", Severity.ERROR, prevents=("BadArgument", "HTTP 408", "HTTP 504"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        settings = dep.spec.request_settings
        if settings is None or not dep.at("request_settings", "request_timeout_ms").spelled_out:
            continue
        value = settings.request_timeout_ms
        where = dep.at("request_settings", "request_timeout_ms")
        if value < 1:
            yield Violation(where, f"request_timeout_ms is {value}; it must be at least 1 (the default is 5000)",
                            "set it to the slowest expected scoring time in ms, e.g. 5000")
            continue
        if dep.spec.kind == "kubernetes":
            limit, what = KUBERNETES_MAX_TIMEOUT_MS, "Kubernetes"
        elif value > MANAGED_MAX_TIMEOUT_MS and _is_prompt_flow(project, dep):
            limit, what = PROMPT_FLOW_MAX_TIMEOUT_MS, "managed prompt-flow"
        else:
            limit, what = MANAGED_MAX_TIMEOUT_MS, "managed"
        if value > limit:
            yield Violation(where,
                            f"request_timeout_ms is {value} ({value / 1000:g} s), above the {what} maximum of "
                            f"{limit} ({limit // 1000} s)",
                            f"set it to at most {limit}; make scoring faster or split large requests")
