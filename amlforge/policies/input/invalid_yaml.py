"""The file is not valid YAML.

## What it does
Reports YAML syntax errors (bad indentation, tabs, unquoted `: ` in a value, unclosed quotes,
unquoted `{{PLACEHOLDER}}` mappings) at the exact line and column the parser stopped.

## Why is this bad?
The az CLI rejects the file before deploying; a template pipeline that produced it is broken.

## Example
```yaml
name: blue
	instance_type: Standard_DS3_v2
```
Use instead:
```yaml
name: blue
instance_type: Standard_DS3_v2
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML002", "invalid-yaml", Severity.ERROR, fatal=True)
