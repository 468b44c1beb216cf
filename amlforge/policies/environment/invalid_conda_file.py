"""A conda file that is not valid YAML or has malformed dependencies.

## What it does
Reads every conda file an environment names (a local file or an inline `conda_file` mapping)
and reports:
- a file that is not readable YAML (with the parser's line and column);
- a document that is not a mapping, or whose `dependencies` is not a list;
- dependency entries that are neither a package spec string nor the `pip:` list, and a `pip:`
  entry that is not a list.

A missing file is reported by AML106.

## Why is this bad?
The conda file is parsed only in Azure when the image is built, so a syntax error there
surfaces as an ImageBuildFailure minutes into the deployment (conda's error, e.g. "Unable to
determine environment", or a YAML parser error in the build log).

## Example
```yaml
# conda.yaml: the pip section is a string, not a list
dependencies:
  - python=3.11
  - pip=24.2
  - pip: azureml-inference-server-http==1.5.1
```
Use instead:
```yaml
# conda.yaml
dependencies:
  - python=3.11
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
```

## References
- conda docs, "Creating an environment file manually" (the environment.yml format)
- how-to-troubleshoot-online-endpoints.md, ImageBuildFailure
"""

from collections.abc import Iterator
from functools import partial
from pathlib import Path

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project, is_local_path


@rule("AML417", "invalid-conda-file", Severity.ERROR, prevents=("ImageBuildFailure",))
def check(project: Project) -> Iterator[Violation]:
    seen: set[str] = set()
    for env in project.environments:
        value = env.spec.conda_file
        conda = project.conda_for(env)
        if conda is not None:
            key = f"{conda.location.file}:{conda.location.line}:{conda.location.column}"
            if key in seen:
                continue
            seen.add(key)
            for where, problem in conda.problems:
                yield Violation(where, problem, "write each dependency as a string such as 'numpy=1.26.4', and "
                                "pip requirements as a list under '- pip:'")
            continue
        if not isinstance(value, str) or not is_local_path(value):
            continue
        resolved = project.local_path(env, value)
        if not resolved.exists or resolved.is_dir or str(resolved.path) in seen:
            continue
        seen.add(str(resolved.path))
        location, message = project.memo(("environment", "conda_error", str(resolved.path)),
                                         partial(_error, resolved.path))
        if message:
            yield Violation(location, f"conda file '{value}': {message}",
                            "fix the YAML; a conda file is a mapping with 'dependencies'")


def _error(path: Path) -> tuple[Location, str]:
    from amlforge.specs.conda import load_conda_file
    from amlforge.specs.loader import display_path

    shown = display_path(path)
    _, location, message = load_conda_file(path, shown)
    return location or Location(shown, 1, 1), message
