"""A secret injection reference the endpoint identity is not known to be allowed to read.

## What it does
For each deployment environment variable that is a well-formed secret reference, looks at the
endpoint's identity (when the endpoint file is in the run) and reports:
- error: the endpoint has no identity (`identity.type: none`): nothing can read the secret;
- warning: a workspace connection reference (`${{azureml://connections/...}}`) on an endpoint
  with a system-assigned identity that does not set
  `properties.enforce_access_to_default_secret_stores: enabled`: the identity is not granted
  read access to connections;
- warning: a workspace connection reference with a user-assigned identity, which needs the
  "Azure Machine Learning Workspace Connection Secrets Reader" role;
- warning: a Key Vault reference (`${{keyvault:...}}`): no endpoint identity is granted Key
  Vault access automatically; it needs "Key Vault Secrets User" on the vault, whose permission
  model must be Azure RBAC.

Set the option `secret_roles_granted = true` when your infrastructure code grants these
roles; the no-identity error stays.

## Why is this bad?
Secret injection reads the secrets with the endpoint identity when the deployment is created.
If the identity cannot read them, the deployment fails with SecretsInjectionError.

## Example
```yaml
# endpoint.yml (system-assigned identity, no enforce flag); its deployment blue.yml has
#   environment_variables: {OPENAI_KEY: "${{azureml://connections/aoai/credentials/key}}"}
name: chat-api
auth_mode: aad_token
```
Use instead:
```yaml
# endpoint.yml
name: chat-api
auth_mode: aad_token
properties:
  enforce_access_to_default_secret_stores: enabled
```

## Options
- `secret_roles_granted` (bool, default false): the identity has the roles; skip the warnings.

## References
- how-to-deploy-online-endpoint-with-secret-injection.md and concept-secret-injection.md
- how-to-troubleshoot-online-endpoints.md SecretsInjectionError
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import (
    SECRET_STORE_FLAG,
    endpoint_of,
    environment_variables,
    identity_type,
    secret_reference_kind,
)
from amlforge.specs.project import Project


@rule("AML710", "secret-reference-without-store-access", Severity.WARNING, prevents=("SecretsInjectionError",))
def check(project: Project) -> Iterator[Violation]:
    granted = project.option("secret_roles_granted", False) is True
    for dep in project.deployments:
        ep = endpoint_of(project, dep)
        for name, value in environment_variables(dep):
            kind = secret_reference_kind(value.strip()) if isinstance(value, str) else None
            if kind is None:
                continue
            anchor = dep.at("environment_variables", name)
            if ep is None:
                if kind == "keyvault" and not granted:
                    yield Violation(anchor, f"'{name}' reads a Key Vault secret: the endpoint identity needs Key Vault "
                                    "Secrets User on the vault", "grant the role, then set secret_roles_granted = true")
                continue
            itype = identity_type(ep)
            if itype == "none":
                yield Violation(anchor, f"'{name}' is a secret reference, but endpoint '{ep.label}' has no identity "
                                "to read it with", "give the endpoint a system- or user-assigned identity",
                                severity=Severity.ERROR)
                continue
            if granted:
                continue
            if kind == "keyvault":
                yield Violation(anchor, f"'{name}' reads a Key Vault secret: the identity of endpoint '{ep.label}' "
                                "is not granted Key Vault access automatically",
                                "grant it Key Vault Secrets User on the vault (RBAC permission model), then set "
                                "secret_roles_granted = true")
            elif "user_assigned" in itype:
                yield Violation(anchor, f"'{name}' reads a workspace connection: the user-assigned identity of "
                                f"endpoint '{ep.label}' needs the Workspace Connection Secrets Reader role",
                                "grant Azure Machine Learning Workspace Connection Secrets Reader on the workspace, "
                                "then set secret_roles_granted = true")
            elif str((ep.spec.properties or {}).get(SECRET_STORE_FLAG, "")).lower() != "enabled":
                yield Violation(anchor, f"'{name}' reads a workspace connection, but endpoint '{ep.label}' does not "
                                f"set {SECRET_STORE_FLAG}: enabled, so its identity gets no access to connections",
                                f"add properties: {{{SECRET_STORE_FLAG}: enabled}} to the endpoint, or grant the "
                                "role yourself and set secret_roles_granted = true")
