"""Quota figures: a ``--quota FILE`` (YAML) or the documented defaults.

File format::

    subscription: 00000000-0000-0000-0000-000000000000   # optional, for the report
    region: westeurope                                    # optional
    families:                                             # per VM family, vCPUs
      standardDSv2Family: {limit: 100, usage: 24}
      standardNCASv3_T4Family: {limit: 0}
    endpoints: {limit: 100, usage: 12}                    # per subscription and region
    deployments: {limit: 500, usage: 40}
    deployments_per_endpoint: 20
    instances_per_deployment: 50
    total_compute: {limit: 500, usage: 100}              # shared with training clusters
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from amlforge.specs._base import SpecModel


class Usage(SpecModel):
    """A limit and what is already used of it."""

    limit: int = Field(ge=0, description="The limit.")
    usage: int = Field(0, ge=0, description="Already used (by resources not in this run).")

    @property
    def available(self) -> int:
        return max(self.limit - self.usage, 0)


def _limit(name: str) -> int:
    from amlforge.data import load_json

    return int(load_json("knowledge.json")["limits"][name])


#: Documented defaults per subscription and region, from the knowledge catalog's ``limits``
#: (how-to-manage-quotas.md, 2026-01-27; ``amlforge data`` shows them with their source).
DEFAULT_ENDPOINTS = _limit("endpoints_per_subscription_region")
DEFAULT_DEPLOYMENTS = _limit("deployments_per_subscription_region")
DEFAULT_DEPLOYMENTS_PER_ENDPOINT = _limit("deployments_per_endpoint")
DEFAULT_INSTANCES_PER_DEPLOYMENT = _limit("instances_per_deployment")
DEFAULT_TOTAL_COMPUTE = 500  # shared with training clusters and compute instances (how-to-manage-quotas.md)


def _usage(limit: int) -> Usage:
    """A documented default limit, nothing used (trusted figures: no validation needed)."""
    return Usage.model_construct(limit=limit, usage=0)


def documented_defaults() -> QuotaSpec:
    """The documented default quota, without validating (and so without building the schema)."""
    return QuotaSpec.model_construct()


class QuotaSpec(SpecModel):
    """Quota of one subscription and region."""

    subscription: str | None = Field(None, description="Subscription id, for the report.")
    region: str | None = Field(None, description="Azure region, for the report.")
    families: dict[str, Usage] = Field(default_factory=dict, description="vCPU quota per VM family.")
    # Defaults are made when used: a model instance at import would build the schema (~5 ms of
    # every start-up) for the runs that read no quota file.
    endpoints: Usage = Field(default_factory=lambda: _usage(DEFAULT_ENDPOINTS), description="Online endpoints.")
    deployments: Usage = Field(default_factory=lambda: _usage(DEFAULT_DEPLOYMENTS), description="Deployments.")
    deployments_per_endpoint: int = Field(DEFAULT_DEPLOYMENTS_PER_ENDPOINT, ge=1, description="Per endpoint.")
    instances_per_deployment: int = Field(DEFAULT_INSTANCES_PER_DEPLOYMENT, ge=1, description="Per deployment.")
    total_compute: Usage = Field(default_factory=lambda: _usage(DEFAULT_TOTAL_COMPUTE),
                                 description="Regional total compute limit.")
    source: str = Field("documented defaults", description="Where these figures come from.", exclude=True)

    def family(self, name: str) -> Usage | None:
        """Quota of a VM family (names compare ignoring case and spaces)."""
        key = name.replace(" ", "").lower()
        for fam, usage in self.families.items():
            if fam.replace(" ", "").lower() == key:
                return usage
        return None


def load_quota(path: Path) -> QuotaSpec:
    """Read a quota file with the same loader (and errors) as az-ml YAML.

    Raises:
        UserInputError: unreadable, malformed or invalid file (with file:line:col).
    """
    from pydantic import ValidationError

    from amlforge.errors import UserInputError
    from amlforge.specs.loader import display_path, validation_problems
    from amlforge.specs.project import Document
    from amlforge.specs.source import parse_yaml, read_text

    display = display_path(path)
    data, smap = parse_yaml(read_text(path, display), display)
    if not isinstance(data, dict):
        raise UserInputError("a quota file is a mapping", smap.locate(()), "see 'amlforge quota --help' for the format")
    try:
        spec = QuotaSpec.model_validate(data)
    except ValidationError as e:
        doc = Document(path, display, "quota", data, smap)
        first = validation_problems(doc, QuotaSpec, e)[0]
        raise UserInputError(first.message, first.location, first.hint) from None
    return spec.model_copy(update={"source": display})


__all__ = ["QuotaSpec", "Usage", "documented_defaults", "load_quota"]
