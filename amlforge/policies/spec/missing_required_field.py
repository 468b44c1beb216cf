"""A field the schema requires is missing.

## What it does
Reports required fields that are absent, such as `instance_type` of a managed deployment or
`scoring_script` of a `code_configuration`. Names that the az CLI can take at deploy time
(`--name`, `--endpoint-name`) are reported by AML109 instead.

## Why is this bad?
The az CLI rejects the file ("Missing data for required field.").

## Example
```yaml
name: blue
endpoint_name: my-endpoint
code_configuration:
  code: ./src
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
code_configuration:
  code: ./src
  scoring_script: score.py
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML103", "missing-required-field", Severity.ERROR, prevents=("BadArgument",))
