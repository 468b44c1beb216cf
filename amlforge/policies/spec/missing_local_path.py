"""A local path in the YAML (code, model, conda file, build context) does not exist.

## What it does
Resolves `code_configuration.code`, inline `model.path`, `environment.conda_file` and
`environment.build.path` against the folder of the YAML file that names them, as the az CLI
does, and reports the ones that do not exist.

## Why is this bad?
The az CLI fails while uploading (`No such file or directory`), or, for a model path, the
deployment fails with "unable to download user model".

## Example
```yaml
code_configuration:
  code: ./onlinescoring   # the folder is called ./scoring
  scoring_script: score.py
```
Use instead:
```yaml
code_configuration:
  code: ./scoring
  scoring_script: score.py
```
"""

from collections.abc import Iterator

from amlforge.policies._helpers import local_paths
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML106", "missing-local-path", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for anchor, what, resolved in local_paths(project):
        if not resolved.exists:
            yield Violation(
                anchor,
                f"{what} '{resolved.raw}' does not exist",
                "fix the path; relative paths start at the folder of this YAML file",
            )
