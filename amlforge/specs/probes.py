"""Liveness and readiness probes (``ProbeSettings``)."""

from __future__ import annotations

from pydantic import Field

from amlforge.specs._base import SpecModel


class ProbeSettings(SpecModel):
    """How the service checks a container. Seconds and counts, defaults as documented."""

    initial_delay: int = Field(10, description="Seconds after the container starts before the first probe (min 1).")
    period: int = Field(10, description="Seconds between probes.")
    timeout: int = Field(2, description="Seconds a probe may take (min 1); must be less than period.")
    success_threshold: int = Field(1, description="Consecutive successes to be healthy; fixed at 1 for liveness.")
    failure_threshold: int = Field(30, description="Consecutive failures before restart (liveness) or Unready.")

    @property
    def budget_seconds(self) -> int:
        """Seconds a container has before this probe gives up: initial_delay + failure_threshold x period."""
        return self.initial_delay + self.failure_threshold * self.period


__all__ = ["ProbeSettings"]
