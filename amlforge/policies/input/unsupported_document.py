"""The file is empty, not a mapping, or not an online endpoint resource.

## What it does
Reports a file given on the command line that is empty, holds a list or a plain value
instead of a mapping, is another kind of az-ml file (a job, a batch endpoint), or is another
form altogether: an ARM template, a Kubernetes manifest, a Helm chart, a Docker Compose file, a
CI workflow, an MLflow `MLmodel` file, a conda file, a Dockerfile or a Bicep file.

A file is taken for az-ml only on real evidence: an az-ml `$schema` line, a key that only az-ml
online documents have (`endpoint_name`, `instance_type`, `auth_mode`, `conda_file`, ...), or keys
that are all keys of the kind they suggest. A file that is only guessed never gets schema errors.

Files found by walking a directory, and files named with `--skip-unknown`, are skipped without
a finding when they are not az-ml online files; `amlforge lint -v` lists them with the reason.

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
