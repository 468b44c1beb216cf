"""The scoring script is not in the code folder.

## What it does
Joins `code_configuration.scoring_script` to the code folder (which the az CLI resolves
against the folder of the deployment YAML) and reports a script that does not exist there, or
that points outside the code folder (`../score.py`). A missing code folder is reported by
AML106 instead.

## Why is this bad?
Only the code folder is uploaded. The inference server then cannot find the entry script and
the container never starts: the deployment ends in ResourceNotReady (on Kubernetes, the
container crash-loops with UserScriptInitFailed).

## Example
```yaml
code_configuration:
  code: ./onlinescoring
  scoring_script: scoring.py   # the file is onlinescoring/score.py
```
Use instead:
```yaml
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```

## References
- `azureml-inference-server-http` (`server/user_script.py`) loads `AML_APP_ROOT/<entry script>`.
- [Troubleshooting online endpoints: ResourceNotReady](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

import os
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._script import scripts
from amlforge.specs.project import Project


@rule("AML501", "missing-scoring-script", Severity.ERROR, prevents=("ResourceNotReady", "UserScriptInitFailed"))
def check(project: Project) -> Iterator[Violation]:
    for script in scripts(project):
        anchor = script.deployment.at("code_configuration", "scoring_script")
        code = script.code.raw
        if not script.inside:
            yield Violation(
                anchor,
                f"scoring_script '{script.raw}' points outside the code folder '{code}'; "
                "only the code folder is uploaded",
                "move the script into the code folder and give its path relative to that folder",
            )
        elif not script.exists:
            what = "is a folder" if os.path.isdir(script.path) else "does not exist"
            yield Violation(
                anchor,
                f"scoring_script '{script.raw}' {what} in the code folder '{code}'",
                _hint(script.code.path, script.raw),
            )


def _hint(code_dir, raw: str) -> str:
    import difflib
    import os

    candidates = []
    for dirpath, dirnames, filenames in os.walk(code_dir):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for f in filenames:
            if f.endswith(".py"):
                candidates.append(os.path.relpath(os.path.join(dirpath, f), code_dir).replace(os.sep, "/"))
        if len(candidates) > 500:
            break
    close = difflib.get_close_matches(raw, candidates, n=1, cutoff=0.5)
    if close:
        return f"set scoring_script to '{close[0]}', or add the missing file"
    return "give the entry script's path relative to the code folder, or add the missing file"
