"""An endpoint `identity` with a user-assigned identity the service cannot use.

## What it does
Checks an endpoint's `identity` when its `type` includes `user_assigned`:
- `user_assigned_identities` is missing or empty;
- it lists more than one identity (azure-ai-ml: "Only 1 user assigned identity is currently
  supported");
- an entry has no `resource_id`, or a `resource_id` that is not the ARM id of a user-assigned
  managed identity
  (`/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`).

## Why is this bad?
The identity is sent to ARM keyed by its resource id: without exactly one valid id the
endpoint is rejected (by the SDK for several identities, by the service otherwise, as
BadArgument), and deployments cannot start because nothing can pull the image or the model.

## Example
```yaml
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - client_id: 00000000-0000-0000-0000-000000000000
```
Use instead:
```yaml
name: credit-scoring
identity:
  type: user_assigned
  user_assigned_identities:
    - resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/scoring-id
```

## References
- reference-yaml-endpoint-online.md (`identity`), reference-yaml-endpoint-online.md and the azure-ai-ml 1.35.2 loaders (load_online_endpoint/load_online_deployment) (more than one UAI
  rejected by the SDK), the ARM template reference of Microsoft.MachineLearningServices/workspaces/onlineEndpoints (`userAssignedIdentities` keyed by resource id)
"""

import re
from collections.abc import Iterator

from amlforge._regex import LazyPattern
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import uses_user_identity
from amlforge.specs.project import Project

_UAI_ID = LazyPattern(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.IGNORECASE,
)


@rule("AML705", "invalid-user-assigned-identity", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        identity = ep.spec.identity
        if identity is None or not uses_user_identity(ep):
            continue
        identities = identity.user_assigned_identities or []
        if not identities:
            yield Violation(ep.at("identity", "type"),
                            f"endpoint '{ep.label}' has identity type {identity.type} but no "
                            "user_assigned_identities",
                            "add user_assigned_identities with the resource_id of one managed identity")
            continue
        if len(identities) > 1:
            yield Violation(ep.at("identity", "user_assigned_identities", 1),
                            f"endpoint '{ep.label}' lists {len(identities)} user-assigned identities; only 1 is "
                            "supported", "keep one identity")
        for i, uai in enumerate(identities):
            if not uai.resource_id:
                yield Violation(ep.at("identity", "user_assigned_identities", i),
                                f"user-assigned identity {i + 1} of endpoint '{ep.label}' has no resource_id",
                                "add resource_id: /subscriptions/<id>/resourceGroups/<rg>/providers/"
                                "Microsoft.ManagedIdentity/userAssignedIdentities/<name>")
            elif not _UAI_ID.match(uai.resource_id.strip()):
                yield Violation(ep.at("identity", "user_assigned_identities", i, "resource_id"),
                                f"resource_id '{uai.resource_id}' is not the ARM id of a user-assigned identity",
                                "use /subscriptions/<id>/resourceGroups/<rg>/providers/"
                                "Microsoft.ManagedIdentity/userAssignedIdentities/<name>")
