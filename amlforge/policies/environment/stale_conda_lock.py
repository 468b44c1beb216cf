"""The lock of a conda file is stale (or missing where locks are required).

## What it does
For each local conda file an environment names, looks for the files `amlforge lock` writes
next to it (`conda-lock.yml` and the pinned `conda.lock.yaml`, or `<stem>.conda-lock.yml` and
`<stem>.lock.yaml`). When they exist, checks that the lock key recorded in the pinned file
still matches the conda file, its channels and platforms and the tool versions, and that the
lock file was not edited by hand; a stale lock is reported at the conda file line that
changed. A missing lock is reported only when the option `require_lock` is true.

## Why is this bad?
The generated image and deployment build from the pinned file: a lock older than its conda
file deploys other versions than the ones reviewed, and the next `az ml` deploy of the conda
file itself resolves afresh (ImageBuildFailure, HTTP 502 while conda resolves at start).

## Example
```yaml
# conda.yaml edited after `amlforge lock`: scikit-learn added
dependencies:
  - python=3.11.9
  - pip:
      - scikit-learn==1.5.2
```
Use instead:
```yaml
# run `amlforge lock conda.yaml` again and commit conda-lock.yml and conda.lock.yaml
dependencies:
  - python=3.11.9
  - pip:
      - scikit-learn==1.5.2
```

The lock is checked against the channels of the project's configuration (`channels` in
`[tool.amlforge]`) when it has them, as `amlforge lock` makes it: a lock made through a mirror
or an offline channel recorded there is not stale.

## Options
- `require_lock` (default false): also report conda files that have no lock at all.
"""

from collections.abc import Iterator

from amlforge.errors import AmlforgeError
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project, is_local_path


@rule("AML418", "stale-conda-lock", Severity.WARNING, prevents=("ImageBuildFailure", "HTTP 502"))
def check(project: Project) -> Iterator[Violation]:
    require = bool(project.option("require_lock", False))
    seen = set()
    for env in project.environments:
        value = env.spec.conda_file
        if not isinstance(value, str) or not is_local_path(value):
            continue
        resolved = project.local_path(env, value)
        if not resolved.exists or resolved.is_dir or resolved.path in seen:
            continue
        seen.add(resolved.path)
        from amlforge.integrations.condalock.lockfiles import lock_paths

        paths = lock_paths(resolved.path)
        command = _lock_command(resolved.path)
        if not paths.pinned_file.exists() and not paths.lockfile.exists():
            if require:
                yield Violation(env.at("conda_file"), f"conda file '{value}' has no lock",
                                f"run: {command}, and commit the two files it writes")
            continue
        status = _status(paths, project.channels)
        if status is None or status.fresh:
            continue
        where = status.location if status.location.line else env.at("conda_file")
        hint = f"run: {command}"
        if status.reason.startswith("channels changed"):
            hint += (" (it locks with the project's channels); a lock made with --channel stays fresh when "
                     "the configuration records the channels: [tool.amlforge] channels = [...]")
        yield Violation(where, f"the lock of '{value}' is {status.state}: {status.reason}", hint)


def _lock_command(conda_file) -> str:  # noqa: ANN001 - a Path
    """``amlforge lock`` of the conda file, with a path that works from the working directory."""
    import os
    import shlex

    return shlex.join(["amlforge", "lock", os.path.relpath(conda_file)])


def _status(paths, channels=()):  # noqa: ANN001, ANN202 - lock status, or None when the conda file is malformed
    import json

    from amlforge.integrations.condalock import lockfiles

    header = lockfiles._read_header(paths.pinned_file)
    try:
        platforms = json.loads(header.get("inputs", "{}")).get("platforms") or ["linux-64"]
    except (ValueError, AttributeError):
        platforms = ["linux-64"]
    try:
        return lockfiles.check_lock(paths.conda_file, platforms, channel_overrides=list(channels) or None)
    except AmlforgeError:
        return None  # a malformed conda file is AML417's finding
