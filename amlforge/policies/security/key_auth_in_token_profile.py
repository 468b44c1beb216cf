"""An endpoint that uses key authentication in a profile that asks for tokens.

## What it does
In the profiles listed by the `token_auth_profiles` option (default: `prod`), reports
endpoints whose `auth_mode` is `key`, written out or by default (`key` is the default).

## Why is this bad?
Endpoint keys are static: they never expire, anyone who has one can score until it is
regenerated, and they are not tied to an identity, so access cannot be scoped or audited per
caller. `aml_token` tokens are short-lived, and `aad_token` (managed endpoints only) uses
Microsoft Entra ID with role-based access for scoring; the authentication guide rates key
authentication the lowest of the three.

## Example
```yaml
# endpoint.yml, linted with profile = "prod"
name: credit-scoring
auth_mode: key
```
Use instead:
```yaml
name: credit-scoring
auth_mode: aad_token   # managed endpoints; Kubernetes endpoints: aml_token
```

## Options
- `token_auth_profiles` (list, default `["prod"]`): profiles in which key authentication is
  reported.

## References
- how-to-authenticate-online-endpoint.md ("static keys don't expire"; `aad_token` managed only)
- reference-yaml-endpoint-online.md (`auth_mode`)
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML703", "key-auth-in-token-profile", Severity.WARNING)
def check(project: Project) -> Iterator[Violation]:
    profiles = project.option("token_auth_profiles", ["prod"]) or []
    if isinstance(profiles, str):
        profiles = [profiles]
    if project.profile not in profiles:
        return
    for ep in project.endpoints:
        if ep.spec.auth_mode != "key":
            continue
        anchor = ep.at("auth_mode")
        how = "" if anchor.spelled_out else " (the default)"
        better = "aml_token" if getattr(ep.spec, "kind", "") == "kubernetes" else "aad_token or aml_token"
        yield Violation(anchor if anchor.spelled_out else ep.at("name"),
                        f"endpoint '{ep.label}' uses key authentication{how} in the '{project.profile}' profile; "
                        "keys never expire",
                        f"set auth_mode: {better}")
