"""The YAML expands to too many values, nests too deeply or refers to itself.

## What it does
Stops reading a document that expands to more than 100,000 values through anchors and
aliases (a "billion laughs" alias bomb), nests deeper than 64 levels, or contains a recursive
alias.

## Why is this bad?
Such a file is either an attack on the tools that read it or a generator gone wrong; an
az-ml file has a few dozen values.

## Example
```yaml
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML003", "yaml-too-complex", Severity.ERROR, fatal=True)
