"""A Docker build context without the Dockerfile the environment names.

## What it does
For environments built from a local context (`build.path`), checks that the file named by
`build.dockerfile_path` (default `Dockerfile`, relative to `build.path`) exists. A missing
context folder is reported by AML106; contexts given as URLs are not checked.

## Why is this bad?
The context is uploaded as it is and the image is built in Azure: without the Dockerfile the
build fails (ImageBuildFailure) several minutes into the deployment, after the upload.

## Example
```yaml
name: scoring-image
build:
  path: ./docker
  dockerfile_path: Dockerfile.inference   # the folder has only "Dockerfile"
```
Use instead:
```yaml
name: scoring-image
build:
  path: ./docker
  dockerfile_path: Dockerfile
```

## References
- reference-yaml-environment.md (`build.path`, `build.dockerfile_path`, default `Dockerfile`),
  reference-yaml-environment.md and how-to-troubleshoot-online-endpoints.md ("Check the build context has a Dockerfile")
"""

import posixpath
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project, is_local_path


@rule("AML415", "missing-dockerfile", Severity.ERROR, prevents=("ImageBuildFailure",))
def check(project: Project) -> Iterator[Violation]:
    for env in project.environments:
        build = env.spec.build
        if build is None or not is_local_path(build.path):
            continue
        context = project.local_path(env, build.path)
        if not context.exists or not context.is_dir:
            continue
        dockerfile = project.local_path(env, posixpath.join(build.path, build.dockerfile_path))
        if dockerfile.exists and not dockerfile.is_dir:
            continue
        anchor = env.at("build", "dockerfile_path")
        if not anchor.spelled_out:
            anchor = env.at("build", "path")
        default = "" if env.at("build", "dockerfile_path").spelled_out else " (the default dockerfile_path)"
        yield Violation(anchor, f"build context '{build.path}' has no '{build.dockerfile_path}'{default}",
                        "add the Dockerfile to the build context, or set dockerfile_path to its name there")
