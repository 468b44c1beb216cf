"""Two files of the run that define the same endpoint, or the same deployment of an endpoint.

## What it does
Reports a deployment file whose `endpoint_name` and `name` are those of a deployment in an
earlier file of the run (case-insensitively, as Azure compares names), and an endpoint file
whose `name` is that of an earlier endpoint file. Each later file is reported once, at its
`name`, naming the first. Quota and capacity figures count such a deployment once. A name that
is an unfilled placeholder matches nothing. Files in sibling folders (neither folder holds the
other, as the separate samples of one repository are) are not reported: they are read as
separate projects' files, though quota figures still count the pair once.

## Why is this bad?
Azure keys a deployment by its endpoint and its name: `az ml online-deployment create` of the
second file replaces the first (or fails because it exists), so one of the two files never
describes what runs. The usual cause is a copied file whose `name` was not changed
(`green.yml` still says `name: blue`). Folders per stage (`dev/`, `prod/`) that deploy to
different workspaces are fine: lint each folder on its own.

## Example
```yaml
# blue.yml
name: blue
endpoint_name: my-endpoint
# green.yml
name: blue
endpoint_name: my-endpoint
```
Use instead:
```yaml
# green.yml
name: green
endpoint_name: my-endpoint
```

## References
- reference-yaml-deployment-managed-online.md (`name`, `endpoint_name`) and az ml online-deployment create/update.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML318", "duplicate-deployment", Severity.WARNING, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for later, first in project.duplicates:
        if not _related(later.doc.path.parent, first.doc.path.parent):
            continue  # separate samples in sibling folders of one repository, not one project's copy
        line = first.at("name").location().line
        shown = os.path.relpath(first.doc.path, later.doc.path.parent)  # as seen from the reported file
        if later.doc.family == "deployment":
            what = f"deployment '{later.spec.name}' of endpoint '{later.spec.endpoint_name}'"
        else:
            what = f"endpoint '{later.spec.name}'"
        yield Violation(later.at("name"),
                        f"{what} is already defined in {shown}:{line}; one file replaces the other "
                        "when deployed",
                        "give this one its own name, or lint the folders of different workspaces separately")


def _related(a: Path, b: Path) -> bool:
    """Whether one folder holds the other (or they are the same): files of one project."""
    return a == b or a in b.parents or b in a.parents
