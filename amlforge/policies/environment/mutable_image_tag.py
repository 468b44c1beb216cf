"""A base image referenced by the floating `latest` tag, or by no tag at all.

## What it does
Reports an environment `image` that has no tag (Docker then uses `latest`) or whose tag is
`latest`. An image pinned by digest (`@sha256:...`) is never reported. With the option
`require_image_digest = true`, images pinned by a tag only are reported too.

## Why is this bad?
`latest` points at a different image after every push: Microsoft patches its Azure ML base
images about every two weeks, so each rebuild of the same YAML can get a different OS, conda
or CUDA layer, and a deployment that worked last month fails to build (ImageBuildFailure) or
to start (ResourceNotReady) without any change on your side.

This is a trade-off. The prebuilt-image docs recommend `latest` so that you pick up security
patches, and support tags up to six months older than `latest`. amlforge favours reproducible
deployments: pin a dated tag (e.g. `:20240709.v1`) or a digest, and bump it on purpose at least
every six months to stay within support and get the patches. Suppress this rule
(`ignore = ["AML408"]`) if you prefer patches over reproducibility.

## Example
```yaml
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
conda_file: conda.yaml
```
Use instead:
```yaml
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
conda_file: conda.yaml
```

## Options
- `require_image_digest` (bool, default false): also report images pinned by tag but not by
  digest.

## References
- concept-prebuilt-docker-images-inference.md ("Use the latest tag"; six months of older tags
  supported), concept-prebuilt-docker-images-inference.md
- concept-prebuilt-docker-images-inference.md: base images are patched about every two weeks
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import parse_image
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML408", "mutable-image-tag", Severity.WARNING, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    digest = bool(project.option("require_image_digest", False))
    for env in project.environments:
        if not env.spec.image:
            continue
        ref = parse_image(env.spec.image)
        if ref.digest:
            continue
        if ref.is_microsoft:
            hint = "pin a dated tag such as :20240709.v1 (or a digest) and bump it at least every six months"
        else:
            hint = "pin a version tag or a digest (@sha256:...)"
        if ref.tag is None:
            message = f"image '{ref.raw}' has no tag, so every build pulls whatever 'latest' is then"
        elif ref.tag.lower() == "latest":
            message = f"image '{ref.raw}' uses the floating tag 'latest'"
        elif digest:
            message = f"image '{ref.raw}' is pinned by tag only; a tag can be pushed again (require_image_digest)"
            hint = "append the digest: @sha256:<digest>"
        else:
            continue
        yield Violation(env.at("image"), message, hint)
