"""A file that amlforge was asked to lint cannot be read.

## What it does
Reports a missing file, a directory given as a file, a permission problem, a binary file or
a file that is not UTF-8 text.

## Why is this bad?
`az ml online-deployment create -f FILE` fails on the same file before anything reaches Azure;
a CI job that lints a renamed or binary file checks nothing.

## Example
```yaml
# (the path does not exist, or the file is a pickled model)
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML001", "unreadable-file", Severity.ERROR, fatal=True)
