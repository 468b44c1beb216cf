"""A base image that Azure ML has deprecated or retired.

## What it does
Looks up each environment's `image` (registry and repository, any tag) in amlforge's knowledge
catalog (`amlforge data` lists it) and reports images whose status is deprecated (warning) or
retired (error), with the replacement. Examples: the Ubuntu 20.04 `openmpi4.1.0-*` base images and
their CUDA 11 variants (deprecated, end-of-life brownout in 2026-05),
`openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04` (deprecated 2025-09-09), every Ubuntu 18.04 / Python 3.7
image. Your own entries (a private registry's images, a company's blessed images) go in your
knowledge file and take precedence.

## Why is this bad?
Retired images are no longer published or patched: a build that pulls one fails
(ImageBuildFailure), and during a brownout a deprecated image fails to pull for hours at a time.
Deprecated images get no security patches.

## Example
```yaml
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
conda_file: conda.yaml
```
Use instead:
```yaml
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
conda_file: conda.yaml
```

## References
- Azure/AzureML-Containers README (supported and deprecated base images, 2026-03)
- Azure/azureml-examples issue 3957 (Ubuntu 20.04 brownout)
- concept-prebuilt-docker-images-inference.md
"""

from collections.abc import Iterator

from amlforge.policies.environment._lifecycle import outdated_images
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML420", "retired-base-image", Severity.ERROR, prevents=("ImageBuildFailure",))
def check(project: Project) -> Iterator[Violation]:
    for item in outdated_images(project):
        hint = f"use {item.replacement}" if item.replacement else "pick a supported image (amlforge data)"
        yield Violation(item.at, item.describe("image"), hint,
                        severity=Severity.WARNING if item.entry.status == "deprecated" else None)
