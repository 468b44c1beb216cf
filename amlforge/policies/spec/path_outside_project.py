"""A local path in the YAML points outside the project.

## What it does
Reports code, model, conda and build paths that resolve (after `..` and symbolic links)
outside the project root: the folder with `.git`, `pyproject.toml`, `.amlforge.toml` or
`amlforge.yaml` above the linted files, or `--root`.

## Why is this bad?
What is uploaded then depends on the machine that runs the deployment: a CI runner or a
colleague's clone does not have `../../../home/me/model`. It can also upload files that were
never meant to leave the machine.

## Example
```yaml
model:
  path: ../../../Downloads/model.pkl
```
Use instead:
```yaml
model:
  path: ./model/model.pkl
```
"""

import os
from collections.abc import Iterator

from amlforge.policies._helpers import local_paths
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML107", "path-outside-project", Severity.ERROR)
def check(project: Project) -> Iterator[Violation]:
    for anchor, what, resolved in local_paths(project):
        if resolved.exists and not resolved.inside_root:
            yield Violation(
                anchor,
                f"{what} '{resolved.raw}' resolves outside the project root "
                f"(to {os.path.relpath(resolved.path, project.root)})",
                "move it into the project, or pass --root when the project is larger",
            )
