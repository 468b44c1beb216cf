"""The scoring script does not parse.

## What it does
Parses the entry script with Python's own parser (`ast`; the script is never run) and reports
the syntax error at its line and column in the script. The script is parsed with the grammar
of the Python that runs amlforge: syntax newer than that (for example PEP 695 type parameters
when amlforge runs on 3.11) is reported even if the image's Python accepts it.

A scoring script in another language (`score.R`, `.jl`, `.js`, ...) is not parsed. In a custom
container (an environment with `inference_config`, which starts its own server) it is not
reported; otherwise it gets its own message: the Azure ML inference server runs Python scoring
scripts only.

## Why is this bad?
The inference server imports the script when the container starts; a `SyntaxError` aborts
the import ("Failed to import user script"), the container exits, and the deployment ends in
ResourceNotReady after the probes give up (CrashLoopBackOff on Kubernetes).

## Example
```yaml
# deployment.yml; onlinescoring/score.py line 9 reads: "def run(raw_data)" (no colon)
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```
Use instead:
```yaml
# the same deployment, with "def run(raw_data):" in score.py
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```

## References
- `azureml-inference-server-http` (`server/user_script.py`): `UserScriptImportException`.
- [Troubleshooting online endpoints: ResourceNotReady](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

from collections.abc import Iterator

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._script import scripts
from amlforge.specs.project import Project


@rule("AML502", "scoring-script-syntax-error", Severity.ERROR,
      prevents=("ResourceNotReady", "KubernetesCrashLoopBackOff"))
def check(project: Project) -> Iterator[Violation]:
    seen: set[str] = set()
    for script in scripts(project):
        parsed = script.parsed
        if parsed is not None and parsed.language and parsed.display not in seen:
            env = project.environment_of(script.deployment)
            if env is not None and env.spec.inference_config is None:
                seen.add(parsed.display)
                yield Violation(
                    Location(parsed.display, 1, 1),
                    f"{script.raw} is written in {parsed.language}; the Azure ML inference server runs Python "
                    "scoring scripts only",
                    "run it in a custom container that starts its own server (environment inference_config "
                    "with liveness, readiness and scoring routes), or write the scoring script in Python",
                )
            continue  # a custom container runs it with its own server: not Python, nothing to parse
        if parsed is None or parsed.error is None or parsed.display in seen:
            continue
        seen.add(parsed.display)  # one finding per file, however many deployments share it
        err = parsed.error
        line = err.lineno or 1
        column = err.offset or 1
        yield Violation(
            Location(parsed.display, line, column),
            f"{script.raw} does not parse: {err.msg}",
            "fix the syntax; run 'python -m py_compile' on the script to check it",
        )
