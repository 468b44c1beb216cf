"""``request_settings`` of a deployment."""

from __future__ import annotations

from pydantic import Field

from amlforge.specs._base import SpecModel


class RequestSettings(SpecModel):
    """Per-request limits of a deployment."""

    request_timeout_ms: int = Field(
        5000, description="Scoring timeout in ms; at most 180000 (managed) or 300000 (Kubernetes)."
    )
    max_concurrent_requests_per_instance: int = Field(
        1, description="Concurrent requests per instance; match WORKER_COUNT of the inference server."
    )
    max_queue_wait_ms: int | None = Field(
        None, description="Deprecated for managed endpoints (default 500); raise request_timeout_ms instead."
    )


__all__ = ["RequestSettings"]
