"""A base image on a floating tag, or a prebuilt Azure ML image on a tag past its support.

## What it does
Reports an environment `image`, or a `FROM` image of a build context's Dockerfile, that has
no tag (Docker then uses `latest`) or whose tag is `latest`, except for Microsoft's prebuilt Azure ML images (`mcr.microsoft.com/azureml/...`),
where Microsoft recommends `latest`. A prebuilt image pinned to a date tag (`:20240709.v1`)
is reported when the date is more than six months before the date of amlforge's knowledge
catalog (or the `retirement_as_of` option), the support window Microsoft gives older tags; the
catalog date keeps the result from changing by itself from one day to the next (AML010 says
when the catalog is old). An image pinned by digest
(`@sha256:...`) is never reported. With the option `require_image_digest = true`, images pinned
by a tag only are reported too.

## Why is this bad?
A third-party or your own `latest` points at a different image after every push: each rebuild of
the same YAML can get a different OS, Python or CUDA layer, and a deployment that worked last
month fails to build (ImageBuildFailure) or to start (ResourceNotReady) without any change on
your side.

Microsoft's prebuilt inference and base images are patched about every two weeks; their docs
recommend `latest` for those images so that you get the patches, and support tags up to six
months older than the newest. A dated tag older than that is out of support and misses security
fixes.

## Example
```yaml
image: contoso.azurecr.io/scoring/base:latest
conda_file: conda.yaml
```
Use instead:
```yaml
image: contoso.azurecr.io/scoring/base:1.4.2
conda_file: conda.yaml
```

## Options
- `require_image_digest` (bool, default false): also report images pinned by tag but not by
  digest.
- `retirement_as_of` (date, default: the knowledge catalog's date): the day tag ages are judged
  against.

## References
- concept-prebuilt-docker-images-inference.md ("Use the latest tag"; six months of older tags
  supported)
- concept-prebuilt-docker-images-inference.md: base images are patched about every two weeks
"""

import datetime
from collections.abc import Iterator

from amlforge._regex import LazyPattern
from amlforge.errors import Location
from amlforge.policies.environment._helpers import ImageRef, parse_image
from amlforge.policies.environment._lifecycle import image_references
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Anchor, Project


@rule("AML408", "mutable-image-tag", Severity.WARNING, prevents=("ImageBuildFailure", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    digest = bool(project.option("require_image_digest", False))
    seen: set[tuple[str, int]] = set()
    for env in project.environments:
        for at, raw in image_references(project, env):
            where = at.location() if isinstance(at, Anchor) else at
            if (where.file, where.line) not in seen:
                seen.add((where.file, where.line))
                yield from _check(project, at, parse_image(raw), digest)


def _check(project: Project, at: Anchor | Location, ref: ImageRef, digest: bool) -> Iterator[Violation]:
    """Findings of one image reference (an environment's image, or a Dockerfile's FROM)."""
    if ref.digest:
        return
    hint = "pin a version tag or a digest (@sha256:...)"
    if _prebuilt(ref.registry, ref.repository) and not digest:
        when, what = _reference_date(project)
        stale = _stale_date_tag(ref.tag, when)
        if stale is not None:
            yield Violation(at,
                            f"image '{ref.raw}' is pinned to a tag of {stale.isoformat()}, more than six months "
                            f"before {when.isoformat()} ({what}): Microsoft supports prebuilt image tags for "
                            "six months",
                            "use the 'latest' tag, as Microsoft recommends for prebuilt images, or a tag from "
                            "the last six months")
        return  # 'latest' (or no tag) is what Microsoft recommends for its prebuilt images
    if ref.tag is None:
        message = f"image '{ref.raw}' has no tag, so every build pulls whatever 'latest' is then"
    elif ref.tag.lower() == "latest":
        message = f"image '{ref.raw}' uses the floating tag 'latest'"
    elif digest:
        message = f"image '{ref.raw}' is pinned by tag only; a tag can be pushed again (require_image_digest)"
        hint = "append the digest: @sha256:<digest>"
    else:
        return
    yield Violation(at, message, hint)


_DATE_TAG = LazyPattern(r"(\d{4})(\d{2})(\d{2})\.v\d+\Z")
#: Microsoft supports prebuilt image tags up to six months older than the newest.
SUPPORT_DAYS = 183


def _reference_date(project: Project) -> tuple[datetime.date, str]:
    """The day tag ages are judged against: the ``retirement_as_of`` option, else the date of the
    knowledge catalog (what amlforge knew to be the newest), so that a result does not change by
    itself from one day to the next."""
    if project.option("retirement_as_of", None) is not None:
        return project.today, "retirement_as_of"
    return project.knowledge.as_of, "the date of amlforge's knowledge catalog"


def _prebuilt(registry: str, repository: str) -> bool:
    return registry.lower() == "mcr.microsoft.com" and repository.lower().startswith("azureml/")


def _stale_date_tag(tag: str | None, today: datetime.date) -> datetime.date | None:
    """The date of a ``YYYYMMDD.vN`` tag more than six months before ``today``."""
    m = _DATE_TAG.match(tag or "")
    if m is None:
        return None
    try:
        day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return day if (today - day).days > SUPPORT_DAYS else None
