"""An environment variable that looks like a secret injection reference but does not match its syntax.

## What it does
Checks every `environment_variables` value that starts with `${{` against the documented
secret injection patterns:
- `${{azureml://connections/<connection>}}`, `.../credentials/<name>}}`,
  `.../metadata/<name>}}`, `.../target}}`;
- `${{keyvault:https://<vault>.vault.azure.net/secrets/<secret>/<version>}}` (the documented
  pattern includes the secret version).

## Why is this bad?
Only values that follow these patterns are resolved with the endpoint identity. A bad
reference either fails the deployment (SecretsInjectionError: "the secret reference format is
bad") or reaches the container as the literal text, so the scoring script authenticates with
`${{keyvault:...}}` as its password.

## Example
```yaml
environment_variables:
  OPENAI_KEY: ${{azureml://connection/aoai/credentials/key}}
  DB_PASSWORD: ${{keyvault:https://contoso-kv.vault.azure.net/secrets/db-password}}
```
Use instead:
```yaml
environment_variables:
  OPENAI_KEY: ${{azureml://connections/aoai/credentials/key}}
  DB_PASSWORD: ${{keyvault:https://contoso-kv.vault.azure.net/secrets/db-password/2f4e1c0b8a9d4e7f9c1b2a3d4e5f6a7b}}
```

## References
- how-to-deploy-online-endpoint-with-secret-injection.md (the pattern table)
- how-to-troubleshoot-online-endpoints.md SecretsInjectionError
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import (
    environment_variables,
    looks_like_reference,
    secret_reference_kind,
)
from amlforge.specs.project import Project


@rule("AML708", "malformed-secret-reference", Severity.ERROR, prevents=("SecretsInjectionError",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        for name, value in environment_variables(dep):
            if not isinstance(value, str) or not looks_like_reference(value):
                continue
            if secret_reference_kind(value.strip()) is not None:
                continue
            text = value.strip()
            if "keyvault:" in text:
                hint = "write ${{keyvault:https://<vault>.vault.azure.net/secrets/<secret>/<version>}}"
            else:
                hint = "write ${{azureml://connections/<connection>/credentials/<name>}} (or /metadata/<name>, /target)"
            yield Violation(dep.at("environment_variables", name),
                            f"environment variable '{name}' is not a valid secret reference: '{text}'", hint)
