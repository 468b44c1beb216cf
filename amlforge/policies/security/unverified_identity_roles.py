"""A user-assigned endpoint identity whose required role assignments amlforge cannot see.

## What it does
Reports each endpoint with a user-assigned identity, as a reminder that the identity needs
two role assignments the YAML cannot express: `AcrPull` on the workspace's container
registry and `Storage Blob Data Reader` on the workspace's default storage account. Set the
option `identity_roles_granted = true` once your infrastructure code grants them.

## Why is this bad?
A system-assigned identity receives these roles automatically when the endpoint is created; a
user-assigned one does not. Without them the deployment cannot pull its image or download
the model and fails with BadArgument (authorization / role assignment) after the endpoint
was created.

## Example
```yaml
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scoring-id
```
Use instead:
```yaml
# grant AcrPull and Storage Blob Data Reader to scoring-id (Bicep, az role assignment create),
# then record it in .amlforge.toml:  [options] identity_roles_granted = true
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scoring-id
```

## Options
- `identity_roles_granted` (bool, default false): the roles are granted; skip the reminder.

## References
- how-to-troubleshoot-online-endpoints.md, "BadArgument: authorization error" (how-to-troubleshoot-online-endpoints.md)
- how-to-access-resources-from-endpoints-managed-identities.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import uses_user_identity
from amlforge.specs.project import Project


@rule("AML706", "unverified-identity-roles", Severity.WARNING, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    if project.option("identity_roles_granted", False) is True:
        return
    for ep in project.endpoints:
        identities = ep.spec.identity.user_assigned_identities if ep.spec.identity else None
        if not uses_user_identity(ep) or not identities or not identities[0].resource_id:
            continue  # AML705 reports identities that are not usable at all
        name = identities[0].resource_id.rstrip("/").rsplit("/", 1)[-1]
        yield Violation(ep.at("identity", "user_assigned_identities", 0, "resource_id"),
                        f"user-assigned identity '{name}' of endpoint '{ep.label}' needs AcrPull on the workspace "
                        "container registry and Storage Blob Data Reader on the workspace storage account",
                        "grant both roles, then set identity_roles_granted = true in the amlforge options")
