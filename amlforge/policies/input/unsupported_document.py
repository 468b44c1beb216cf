"""The file is empty, not a mapping, or not an online endpoint resource.

## What it does
Reports a file given on the command line that is empty, holds a list or a plain value
instead of a mapping, or is another kind of az-ml file (a job, a batch endpoint).
Files found by walking a directory are skipped silently when they are not az-ml online
endpoint files (for example GitHub workflows).

## Why is this bad?
`az ml online-endpoint create -f` expects a mapping ("Expect dict but get <class 'list'>").

## Example
```yaml
- name: blue
```
Use instead:
```yaml
name: blue
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML005", "unsupported-document", Severity.ERROR, fatal=True)
