"""`max_concurrent_requests_per_instance` that differs from the inference server's `WORKER_COUNT`.

## What it does
For deployments served by the AzureML inference server (a scoring script in a non-custom
container, or an MLflow no-code deployment), compares
`request_settings.max_concurrent_requests_per_instance` (default 1) with the
`WORKER_COUNT` environment variable (default 1: the server starts one worker). Custom
containers (an environment with `inference_config`) are not checked.

## Why is this bad?
The deployment reference asks to pass `WORKER_COUNT` so the server can handle the concurrency
the endpoint lets through:

- more concurrent requests than workers: the extra requests wait inside the container behind
  busy workers. Latency grows, the wait counts against `request_timeout_ms` (HTTP 408), and
  the pending queue reaches the `2 x max_concurrent_requests_per_instance x instance_count`
  cap sooner (HTTP 429);
- fewer concurrent requests than workers: workers sit idle ("under utilized nodes") and the
  endpoint fails fast with HTTP 429 while capacity is left.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 3
request_settings:
  max_concurrent_requests_per_instance: 8
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_F4s_v2
instance_count: 3
environment_variables:
  WORKER_COUNT: "4"
request_settings:
  max_concurrent_requests_per_instance: 4
```

## Fix safety
Unsafe: the fix sets `WORKER_COUNT` to `max_concurrent_requests_per_instance` (replacing the
value, or adding it to `environment_variables`, or adding an `environment_variables` block
at the end of the file). More workers load more copies of the model into memory, which the
instance must hold; whether the model can is for you to decide.

## References
- `reference-yaml-deployment-managed-online.md` RequestSettings (`max_concurrent_requests_per_instance`:
  "pass `WORKER_COUNT: <int>` as an environment variable"); reference-yaml-deployment-managed-online.md `environment_variables`.
- how-to-manage-quotas.md "429 concurrency cap" and how-to-troubleshoot-online-endpoints.md (429: "ensure that the environment variable
  `WORKER_COUNT` is correctly passed"); how-to-inference-server-http.md (`--worker_count 1`).
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.traffic._helpers import uses_inference_server, worker_count
from amlforge.specs.edits import Applicability, Fix, insert_entry, replace_value
from amlforge.specs.project import Loaded, Project


@rule("AML310", "worker-count-mismatch", Severity.WARNING, prevents=("HTTP 429", "HTTP 408"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        concurrency = dep.spec.requests.max_concurrent_requests_per_instance
        workers, workers_set = worker_count(dep)
        if workers is None or workers < 1 or concurrency < 1 or workers == concurrency:
            continue
        if not uses_inference_server(project, dep):
            continue
        concurrency_given = dep.at("request_settings", "max_concurrent_requests_per_instance").spelled_out
        workers_text = f"WORKER_COUNT is {workers}" if workers_set else "WORKER_COUNT is not set (1 worker)"
        if concurrency > workers:
            effect = (f"up to {concurrency - workers} of every {concurrency} concurrent requests queue inside the "
                      "container behind busy workers (latency, HTTP 408, earlier HTTP 429)")
        else:
            effect = (f"{workers - concurrency} of {workers} workers stay idle and the endpoint rejects load "
                      "with HTTP 429 early")
        where = (dep.at("request_settings", "max_concurrent_requests_per_instance") if concurrency_given
                 else dep.at("environment_variables", "WORKER_COUNT"))
        if dep.spec.kind == "kubernetes":
            hint = (f"set WORKER_COUNT: \"{concurrency}\" in environment_variables (on Kubernetes keep "
                    "max_concurrent_requests_per_instance at its default unless Microsoft says otherwise)")
        else:
            hint = (f"set WORKER_COUNT: \"{concurrency}\" in environment_variables, or "
                    f"max_concurrent_requests_per_instance to {workers}, whichever your model can handle")
        yield Violation(
            where,
            f"max_concurrent_requests_per_instance is {concurrency} but {workers_text}: {effect}",
            hint,
            fix=_fix(dep, concurrency, workers_set),
        )


def _fix(dep: Loaded, concurrency: int, workers_set: bool) -> Fix | None:
    title = f"Set WORKER_COUNT to {concurrency}"
    anchor = dep.at("environment_variables", "WORKER_COUNT")
    smap = anchor.doc.source
    if workers_set:
        current = (dep.spec.environment_variables or {}).get("WORKER_COUNT")
        return replace_value(smap, anchor.path, current, str(concurrency), title, Applicability.UNSAFE)
    return insert_entry(smap, dep.at("environment_variables").path, "WORKER_COUNT", str(concurrency), title,
                        Applicability.UNSAFE)
