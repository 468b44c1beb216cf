"""A value outside the allowed set (an unknown enum value, an empty string, image and build together).

## What it does
Reports enum values the schema does not allow (`auth_mode: keys`), suggesting the closest,
and structural rules of the schema: an environment needs exactly one of `image` or `build`,
`conda_file` needs `image`, managed deployments accept only `scale_settings.type: default`.

## Why is this bad?
The az CLI rejects the file ("Value 'keys' passed is not in set ...") or the service rejects
the request ("Docker image or Dockerfile is required").

## Example
```yaml
name: my-endpoint
auth_mode: keys
```
Use instead:
```yaml
name: my-endpoint
auth_mode: key
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML104", "invalid-value", Severity.ERROR, prevents=("BadArgument",))
