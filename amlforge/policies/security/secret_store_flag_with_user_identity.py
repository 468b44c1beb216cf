"""`enforce_access_to_default_secret_stores` on an endpoint with a user-assigned identity.

## What it does
Reports endpoints that set the property `enforce_access_to_default_secret_stores` while their
identity is user-assigned.

## Why is this bad?
The flag asks Azure ML to grant the endpoint's system-assigned identity read access to the
workspace connections. The secret injection guide says it is not allowed with a user-assigned
identity (grant that identity the roles yourself), so the endpoint is rejected (the docs do
not name the error code; BadArgument is the likely one).

## Example
```yaml
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scoring-id
properties:
  enforce_access_to_default_secret_stores: enabled
```
Use instead:
```yaml
# grant scoring-id "Azure Machine Learning Workspace Connection Secrets Reader" on the workspace
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scoring-id
```

## References
- how-to-deploy-online-endpoint-with-secret-injection.md ("you're not allowed to specify the
  enforce_access_to_default_secret_stores flag")
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import SECRET_STORE_FLAG, uses_user_identity
from amlforge.specs.project import Project


@rule("AML709", "secret-store-flag-with-user-identity", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if uses_user_identity(ep) and SECRET_STORE_FLAG in (ep.spec.properties or {}):
            yield Violation(ep.at("properties", SECRET_STORE_FLAG),
                            f"endpoint '{ep.label}' sets {SECRET_STORE_FLAG} with a user-assigned identity, "
                            "which the service does not allow",
                            "remove the property and grant the identity access to the secret stores yourself",
                            key=True)
