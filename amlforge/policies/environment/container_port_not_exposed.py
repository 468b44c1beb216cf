"""A custom container's routes use a port that its Dockerfile does not expose.

## What it does
For an environment built from a Dockerfile with `inference_config` (a custom container that
serves its own routes), compares the ports of `liveness_route`, `readiness_route` and
`scoring_route` with the Dockerfile's `EXPOSE` lines, when it has any.

## Why is this bad?
The platform probes and scores on the ports of `inference_config`. A server that listens on
another port (the one the Dockerfile exposes) never answers the probes: the deployment ends in
ResourceNotReady, or scoring fails with HTTP 502.

## Example
```yaml
build:
  path: ./container        # its Dockerfile says EXPOSE 8080
inference_config:
  liveness_route: {port: 5001, path: /health}
  readiness_route: {port: 5001, path: /health}
  scoring_route: {port: 5001, path: /score}
```
Use instead:
```yaml
build:
  path: ./container
inference_config:
  liveness_route: {port: 8080, path: /health}
  readiness_route: {port: 8080, path: /health}
  scoring_route: {port: 8080, path: /score}
```

## References
- [Use a custom container to deploy a model](https://learn.microsoft.com/azure/machine-learning/how-to-deploy-custom-container)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML427", "container-port-not-exposed", Severity.WARNING, prevents=("ResourceNotReady", "HTTP 502"))
def check(project: Project) -> Iterator[Violation]:
    for env in project.environments:
        config = env.spec.inference_config
        if config is None or env.spec.build is None:
            continue
        dockerfile = project.dockerfile_of(env)
        if dockerfile is None or not dockerfile.exposed:
            continue
        exposed = sorted({port for port, _ in dockerfile.exposed})
        for route in ("liveness_route", "readiness_route", "scoring_route"):
            port = getattr(config, route).port
            if port in exposed:
                continue
            yield Violation(env.at("inference_config", route, "port"),
                            f"{route} uses port {port}, but the Dockerfile ({env.spec.build.dockerfile_path}) exposes "
                            f"{', '.join(map(str, exposed))}",
                            f"set the port to {exposed[0]}, or make the server listen on {port} and EXPOSE it")
