"""`max_queue_wait_ms` on a managed deployment, where it is deprecated.

## What it does
Reports `request_settings.max_queue_wait_ms` in managed online deployments. Kubernetes
deployments still document the setting and are not reported.

## Why is this bad?
The managed deployment reference marks `max_queue_wait_ms` as deprecated: time a request
waits in the queue now counts against `request_timeout_ms`. A file that budgets queue wait
separately gives requests less time than its author expects, and slow ones end with HTTP 408.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
request_settings:
  request_timeout_ms: 5000
  max_queue_wait_ms: 3000
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
request_settings:
  request_timeout_ms: 8000
```

## References
- `reference-yaml-deployment-managed-online.md` RequestSettings: "(Deprecated) ... Now increase
  `request_timeout_ms` to account for any networking/queue delays".
- reference-yaml-deployment-managed-online.md.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import MANAGED_MAX_TIMEOUT_MS
from amlforge.specs.project import Project


@rule("AML307", "max-queue-wait-on-managed", Severity.WARNING, prevents=("HTTP 408",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        settings = dep.spec.request_settings
        if dep.spec.kind != "managed" or settings is None or settings.max_queue_wait_ms is None:
            continue
        wait = settings.max_queue_wait_ms
        timeout = settings.request_timeout_ms
        combined = min(timeout + max(wait, 0), MANAGED_MAX_TIMEOUT_MS)
        hint = "remove max_queue_wait_ms"
        if combined > timeout:
            hint += f" and raise request_timeout_ms to {combined} to keep room for the queue wait"
        yield Violation(dep.at("request_settings", "max_queue_wait_ms"),
                        f"max_queue_wait_ms ({wait}) is deprecated for managed deployments; queue time now counts "
                        f"against request_timeout_ms ({timeout})", hint, key=True)
