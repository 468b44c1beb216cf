"""A key that the az-ml schema does not have (usually a typo).

## What it does
Reports keys that are not fields of the resource at that level, and suggests the closest
valid key (`instance_cout` -> `instance_count`). Keys that belong to the other kind of
resource (`resources` on a managed deployment) get a hint saying so.

## Why is this bad?
The az CLI rejects the file (`"instance_cout": ["Unknown field."]`), or, worse, a typo in an
optional key silently leaves the default in force.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_cout: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
instance_type: Standard_DS3_v2
instance_count: 3
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML101", "unknown-field", Severity.ERROR, prevents=("BadArgument",))
