"""A secret written as a literal value in a deployment's `environment_variables`.

## What it does
Checks each literal value in `environment_variables` (secret injection references such as
`${{azureml://connections/...}}` and `${{keyvault:...}}` are fine):
- error: the value has the shape of a credential: a storage or Service Bus connection string
  (`AccountKey=`, `SharedAccessKey=`), a `Password=` in a connection string, a SAS token
  (`sig=`), a private key block, or a provider token with a known prefix (`sk-` OpenAI,
  `AKIA` AWS, `ghp_`/`github_pat_` GitHub, `hf_` Hugging Face, `xox?-` Slack);
- error: a long random-looking string (32+ base64 characters mixing upper case, lower case
  and digits, with a Shannon entropy of at least 4.5 bits per character), as generated keys
  are (heuristic; hex strings are not flagged by shape, since hashes look the same);
- warning: the variable's name ends in `PASSWORD`, `PASSWD`, `PWD`, `SECRET`, `TOKEN`,
  `APIKEY`, `CREDENTIAL(S)`, `SAS` or `CONNECTION_STRING` and its value is a literal string
  (not a number, a boolean, a Key Vault URL, a placeholder, or an Application Insights
  connection string, which Microsoft does not treat as a secret); a name ending in `KEY` counts
  when the value is 16 or more characters without spaces (`SORT_KEY: timestamp` is not a
  secret).

Findings never repeat the value.

## Why is this bad?
Environment variables are stored in plain text in the deployment: anyone with read access
to the workspace sees them (`az ml online-deployment show`, the studio, ARM deployment
history), and the YAML file usually ends up in source control. Secret injection (preview)
resolves `${{azureml://connections/<connection>/credentials/<key>}}` or
`${{keyvault:https://<vault>.vault.azure.net/secrets/<name>/<version>}}` with the endpoint
identity when the container starts, so the secret never appears in the deployment. The
alternative is to have the scoring script fetch it with its managed identity.

## Example
```yaml
environment_variables:
  WORKER_COUNT: "1"
  DB_PASSWORD: hunter2
  STORAGE: DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=bm90LWEtcmVhbC1rZXk=;EndpointSuffix=core.windows.net
```
Use instead:
```yaml
environment_variables:
  WORKER_COUNT: "1"
  DB_PASSWORD: ${{keyvault:https://contoso-kv.vault.azure.net/secrets/db-password/2f4e1c0b8a9d4e7f9c1b2a3d4e5f6a7b}}
  STORAGE: ${{azureml://connections/contoso_blob/credentials/key}}
```

## References
- concept-secret-injection.md and how-to-deploy-online-endpoint-with-secret-injection.md
- reference-yaml-deployment-managed-online.md (`environment_variables`), how-to-troubleshoot-online-endpoints.md SecretsInjectionError
"""

import math
import re
from collections.abc import Iterator

from amlforge._regex import LazyPattern
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.security._helpers import (
    environment_variables,
    looks_like_reference,
)
from amlforge.specs.project import Project

_SHAPES = (
    (LazyPattern(r"AccountKey=[A-Za-z0-9+/=]{16,}", re.IGNORECASE), "a storage account key (AccountKey=)"),
    (LazyPattern(r"SharedAccessKey=[A-Za-z0-9+/=]{16,}", re.IGNORECASE), "a shared access key (SharedAccessKey=)"),
    (LazyPattern(r"(?:^|;)\s*(?:Password|Pwd)\s*=\s*[^;\s]+", re.IGNORECASE), "a connection string with a password"),
    (LazyPattern(r"[?&]sig=[A-Za-z0-9%+/=]{16,}"), "a SAS token (sig=)"),
    (LazyPattern(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (LazyPattern(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), "an API key (sk-...)"),
    (LazyPattern(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key ID"),
    (LazyPattern(r"\b(?:ghp|gho|ghs|ghu)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"), "a GitHub token"),
    (LazyPattern(r"\bhf_[A-Za-z0-9]{30,}\b"), "a Hugging Face token"),
    (LazyPattern(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (LazyPattern(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), "a JSON Web Token"),
)
_RANDOM = LazyPattern(r"^[A-Za-z0-9+/]{32,}={0,2}\Z")
_SECRET_WORDS = {"PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "KEY", "APIKEY", "ACCESSKEY", "SECRETKEY",
                 "CREDENTIAL", "CREDENTIALS", "SAS", "CONNSTR", "CONNECTIONSTRING"}
_NOT_SECRET = LazyPattern(
    r"^(?:true|false|yes|no|on|off|none|null|[-+]?\d+(?:\.\d+)?|\{\{.*\}\}|\$\{?[A-Za-z_]\w*\}?|"
    r"https://[^/]+\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net)(?:/.*)?|"
    r"InstrumentationKey=[0-9a-f-]{36}(?:;[A-Za-z]+=[^;]*)*;?)$", re.IGNORECASE)


@rule("AML701", "secret-in-environment-variables", Severity.ERROR)
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        for name, value in environment_variables(dep):
            if not isinstance(value, str) or not value.strip() or looks_like_reference(value):
                continue
            anchor = dep.at("environment_variables", name)
            shape = _shape(value)
            if shape:
                yield Violation(anchor, f"environment variable '{name}' holds what looks like {shape}, in plain text",
                                "store it in Key Vault or a workspace connection and reference it with "
                                "${{keyvault:...}} or ${{azureml://connections/...}}")
            elif _secret_name(name, value) and not _NOT_SECRET.match(value.strip()):
                yield Violation(anchor, f"environment variable '{name}' is named like a secret and holds a literal "
                                f"value ({len(value)} characters)",
                                "reference the secret with ${{keyvault:...}} or ${{azureml://connections/...}} "
                                "instead of writing it here", severity=Severity.WARNING)


def _shape(value: str) -> str | None:
    for pattern, what in _SHAPES:
        if pattern.search(value):
            return what
    text = value.strip()
    if _RANDOM.match(text) and _mixed(text) and _entropy(text) >= 4.5:
        return "a generated key (a long random base64 string)"
    return None


def _mixed(text: str) -> bool:
    return any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text)


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for c in text:
        counts[c] = counts.get(c, 0) + 1
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _secret_name(name: str, value: str) -> bool:
    words = [w.upper() for w in re.split(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    if not words:
        return False
    if len(words) >= 2 and words[-2] + words[-1] in {"CONNECTIONSTRING", "CONNSTR", "APIKEY", "ACCESSKEY", "SECRETKEY"}:
        return True
    if words[-1] == "KEY":  # SORT_KEY: timestamp is not a secret; keys are long
        return len(value.strip()) >= 16 and not any(c.isspace() for c in value.strip())
    return words[-1] in _SECRET_WORDS
