"""`auth_mode: aad_token` on a Kubernetes online endpoint.

## What it does
Reports Kubernetes endpoints (endpoints with `compute`) whose `auth_mode` is `aad_token`.

## Why is this bad?
Microsoft Entra token authentication is supported for managed online endpoints only;
Kubernetes endpoints accept `key` and `aml_token`. The azure-ai-ml SDK does not check this, so
the request reaches the service and is rejected there (BadArgument); clients that send Entra
tokens to a Kubernetes endpoint get HTTP 401 (the troubleshooting guide's static check for 401
is "aad_token only on managed endpoints").

## Example
```yaml
name: fraud-k8s
compute: azureml:aks-inference
auth_mode: aad_token
```
Use instead:
```yaml
name: fraud-k8s
compute: azureml:aks-inference
auth_mode: aml_token
```

## References
- concept-endpoints-online-auth.md and how-to-authenticate-online-endpoint.md (aad_token:
  managed only), reference-yaml-endpoint-online.md and the azure-ai-ml 1.35.2 loaders (load_online_endpoint/load_online_deployment)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML704", "aad-token-on-kubernetes", Severity.ERROR, prevents=("BadArgument", "HTTP 401"))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if getattr(ep.spec, "kind", "") == "kubernetes" and ep.spec.auth_mode == "aad_token":
            yield Violation(ep.at("auth_mode"),
                            f"Kubernetes endpoint '{ep.label}' uses aad_token, which only managed endpoints support",
                            "set auth_mode: aml_token (or key)")
