"""A base image from a registry that Azure ML may not be able to pull from.

## What it does
Classifies the registry of every environment `image`:
- Microsoft Container Registry (`mcr.microsoft.com`): fine;
- a registry listed in the `trusted_registries` option (default: `docker.io`, for public Docker
  Hub images): fine;
- the workspace's Azure Container Registry (the `workspace_acr` option): fine;
- another Azure Container Registry (`*.azurecr.io`): warning, the endpoint identity needs
  `AcrPull` on it (info when `workspace_acr` is not set, since amlforge cannot tell which ACR is
  the workspace's);
- any other registry (`ghcr.io`, `quay.io`, `*.amazonaws.com`, `localhost:5000`, ...): warning;
  private registries other than ACR are not supported.

## Why is this bad?
Azure ML pulls images with Microsoft Entra ID: a private registry works only when it is an ACR
and the endpoint identity has `AcrPull` on it. Anything
else fails with "unable to download container image" (BadArgument), ResourceNotFound, or an
ImageBuildFailure when a conda file is built on top of the image; on a Kubernetes cluster
the pods cannot pull it (ImagePullLoopBackOff).

## Example
```yaml
image: ghcr.io/contoso/scoring-base:1.4.2
```
Use instead:
```yaml
# copy the image into the workspace ACR (az acr import) and use it from there
image: contosomlws.azurecr.io/scoring-base:1.4.2
```

## Options
- `workspace_acr` (string, e.g. `"contosomlws.azurecr.io"`): the workspace's registry.
- `trusted_registries` (list, default `["docker.io"]`): registries known to be pullable: public
  ones, and ACRs on which the endpoint identity has `AcrPull`.

## References
- concept-endpoints-online.md (private registries: ACR with AcrPull only), reference-yaml-environment.md
- how-to-troubleshoot-online-endpoints.md: "unable to download container image",
  ResourceNotFound (how-to-troubleshoot-online-endpoints.md)
"""

from collections.abc import Iterator

from amlforge.policies.environment._helpers import parse_image
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML409", "unsupported-image-registry", Severity.WARNING,
      prevents=("BadArgument", "ResourceNotFound", "ImageBuildFailure", "ImagePullLoopBackOff"))
def check(project: Project) -> Iterator[Violation]:
    workspace_acr = str(project.option("workspace_acr", "") or "").lower().strip().rstrip("/")
    trusted = {str(r).lower().strip().rstrip("/") for r in project.option("trusted_registries", ["docker.io"]) or ()}
    for env in project.environments:
        if not env.spec.image:
            continue
        ref = parse_image(env.spec.image)
        registry = ref.registry.lower()
        if ref.is_microsoft or registry in trusted or (workspace_acr and registry == workspace_acr):
            continue
        if ref.is_acr:
            if not workspace_acr:
                yield Violation(env.at("image"),
                                f"image '{ref.raw}' comes from the ACR '{ref.registry}': unless it is the workspace's "
                                "registry, the endpoint identity needs AcrPull on it",
                                "set the workspace_acr option, or list this registry in trusted_registries once "
                                "AcrPull is granted", severity=Severity.INFO)
            else:
                yield Violation(env.at("image"),
                                f"image '{ref.raw}' comes from '{ref.registry}', not the workspace registry "
                                f"'{workspace_acr}': the endpoint identity needs AcrPull on it",
                                "grant AcrPull and add the registry to trusted_registries, or import the image into "
                                "the workspace ACR")
            continue
        yield Violation(env.at("image"),
                        f"image '{ref.raw}' comes from '{ref.registry}', which is neither MCR nor an Azure Container "
                        "Registry: Azure ML cannot pull private images from it",
                        "import the image into the workspace ACR (az acr import), or add the registry to "
                        "trusted_registries if the image is public")
