"""A value of the wrong type (a string where a number is expected, an unquoted CPU quantity).

## What it does
Reports values whose YAML type does not match the schema and names the expected type.

## Why is this bad?
The az CLI rejects the file ("Not a valid integer."); unquoted Kubernetes quantities such as
`cpu: 0.1` are read as numbers and rejected ("Not a valid string.").

## Example
```yaml
request_settings:
  request_timeout_ms: 5s
```
Use instead:
```yaml
request_settings:
  request_timeout_ms: 5000
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML102", "wrong-type", Severity.ERROR, prevents=("BadArgument",))
