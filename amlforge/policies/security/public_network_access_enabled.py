"""A managed endpoint reachable from the public internet in the production profile.

## What it does
In the `prod` profile, reports managed endpoints whose `public_network_access` is `enabled`,
written out or by default (the default is `enabled`).

Outbound access is not reported: `egress_public_network_access: disabled` on a deployment is
the legacy network isolation, which the docs advise replacing with a workspace managed
virtual network and which breaks MLflow no-code deployments (AML707). Isolate egress with
the workspace managed VNet instead.

## Why is this bad?
With public access the scoring URI accepts requests from anywhere, protected only by the key
or token. With `disabled`, inbound scoring traffic must come through the workspace's private
endpoint, so only your virtual networks can reach the model. A public endpoint can be
intended (a public API); then suppress the finding on the endpoint file.

## Example
```yaml
# endpoint.yml, linted with profile = "prod"
name: credit-scoring
auth_mode: aad_token
```
Use instead:
```yaml
name: credit-scoring
auth_mode: aad_token
public_network_access: disabled
```

## References
- reference-yaml-endpoint-online.md (`public_network_access`, default `enabled`; `disabled`:
  inbound only through the workspace private endpoint), reference-yaml-endpoint-online.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.endpoint import ManagedOnlineEndpoint
from amlforge.specs.project import Project


@rule("AML702", "public-network-access-enabled", Severity.WARNING, profiles=("prod",))
def check(project: Project) -> Iterator[Violation]:
    for ep in project.endpoints:
        if not isinstance(ep.spec, ManagedOnlineEndpoint) or ep.spec.public_network_access != "enabled":
            continue
        anchor = ep.at("public_network_access")
        how = "public_network_access: enabled" if anchor.spelled_out else "public_network_access defaults to enabled"
        yield Violation(anchor if anchor.spelled_out else ep.at("name"),
                        f"endpoint '{ep.label}' accepts scoring requests from the public internet ({how})",
                        "set public_network_access: disabled and call it through the workspace private endpoint")
