"""amlforge's knowledge catalog is more than six months old.

## What it does
Compares the `as_of` date of the lifecycle catalog shipped with amlforge
(`amlforge/data/knowledge.json`: retired images and environments, inference server defects,
MLflow no-code facts, service limits) with today, and reports once per run, as an info, when it
is more than six months old. `amlforge data` prints what the catalog holds.

## Why is this bad?
Images are deprecated, environments renamed and limits raised every few months. An old catalog
misses the newest retirements, so a deployment it calls fine may still fail with
ImageBuildFailure.

## Example
A run in 2026-09 of an amlforge release whose catalog (`amlforge data --format json`) says:
```yaml
as_of: "2026-01-01"
```
Use instead: upgrade amlforge (`pip install -U amlforge`), or add the facts you know to your own
knowledge file (`knowledge = "amlforge-knowledge.json"` in the configuration), e.g.:
```yaml
# amlforge-knowledge.json (JSON is YAML too)
{"images": [{"match": "myregistry.azurecr.io/base/ubuntu20.04", "status": "retired", "source": "platform team"}]}
```

## Options
- `retirement_as_of` (ISO date, default: today): the date the catalog's age is judged against.

## References
- `amlforge/data/SOURCES.md`: the source and date of every catalog entry
"""

from collections.abc import Iterator

from amlforge.errors import Location
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.knowledge import STALE_AFTER_DAYS
from amlforge.specs.project import Project


@rule("AML010", "stale-knowledge-catalog", Severity.INFO)
def check(project: Project) -> Iterator[Violation]:
    if not project.documents:
        return
    knowledge = project.knowledge
    age = (project.today - knowledge.as_of).days
    if age <= STALE_AFTER_DAYS:
        return
    from amlforge.data import DATA_DIR
    from amlforge.specs.loader import display_path

    yield Violation(
        Location(display_path(DATA_DIR / "knowledge.json"), 3, 3),
        f"amlforge's knowledge catalog is {age} days old (as of {knowledge.as_of.isoformat()}); "
        "newer image, environment and server retirements are unknown to it",
        "upgrade amlforge, or add what you know in your own knowledge file (knowledge = \"file.json\")",
    )
