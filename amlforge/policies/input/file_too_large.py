"""A configuration file is larger than the limit (5 MiB).

## What it does
Refuses to read YAML files above 5 MiB.

## Why is this bad?
az-ml endpoint files are a few KB. A file this large is a data or model file passed by
mistake, and reading it would make linting slow and memory-hungry.

## Example
```yaml
# examples/model/weights.yaml (50 MB)
```
Use instead:
```yaml
model:
  path: ./model
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML004", "file-too-large", Severity.ERROR, fatal=True)
