"""The deploy-time errors and HTTP statuses amlforge predicts, from the Azure ML troubleshooting guide.

A rule's ``prevents`` names entries of :data:`FAILURE_MODES`; a catalog test checks that, and
``docs/failure-modes.md`` is generated from this table plus the catalog. Entries with
``static = None`` can be predicted by some rule; the others say why no offline check can.

Source: MicrosoftDocs/azure-ai-docs ``how-to-troubleshoot-online-endpoints.md`` (2024-09
version; OutOfCapacity from the 2021-2023 version) and the Kubernetes troubleshooting list.
"""

from __future__ import annotations

from msgspec import Struct


class FailureMode(Struct, frozen=True):
    """One error code or HTTP status from the troubleshooting guide."""

    code: str
    kind: str  # "deployment", "kubernetes" or "scoring"
    meaning: str
    static: str | None = None  # why no static check can predict it (None: predictable)


FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode("ImageBuildFailure", "deployment",
                "The environment image fails to build: unpinned or conflicting dependencies, build timeout, "
                "ACR authorization."),
    FailureMode("OutOfQuota", "deployment",
                "Not enough vCPU quota for the VM family (with the 20% upgrade reserve), endpoints, disk or "
                "memory for the model, or role assignments."),
    FailureMode("OutOfCapacity", "deployment",
                "No capacity for the VM size in the region (older docs: ERR_1101).",
                "Regional capacity changes minute by minute; amlforge only warns for GPU and very large SKUs."),
    FailureMode("BadArgument", "deployment",
                "The request is invalid: schema errors, names, unknown SKU, traffic, limits, identity roles, "
                "image not reachable."),
    FailureMode("ResourceNotReady", "deployment",
                "The container never becomes ready: score.py errors, missing imports, init() failures, probes "
                "that give up too early, environment setup errors."),
    FailureMode("ResourceNotFound", "deployment",
                "A referenced resource (model, environment, image, storage path) does not exist."),
    FailureMode("OperationCanceled", "deployment",
                "A higher-priority or duplicate operation on the same endpoint cancelled this one.",
                "Depends on what else runs against the endpoint at deploy time; generated ARM/Bicep serialize "
                "their own operations with dependsOn."),
    FailureMode("SecretsInjectionError", "deployment",
                "The endpoint identity cannot read referenced secrets.",
                "Needs the secret store and the role assignments as they are in Azure at deploy time."),
    FailureMode("WorkspaceManagedNetworkNotReady", "deployment",
                "The workspace managed VNet is not provisioned yet.",
                "A property of the workspace at deploy time, not of the endpoint files."),
    FailureMode("InternalServerError", "deployment", "A service-side failure.",
                "Service faults cannot be predicted from configuration."),
    FailureMode("InvalidDeploymentSpec", "kubernetes", "Bad instance count or autoscale min/max (Kubernetes)."),
    FailureMode("PodUnschedulable", "kubernetes", "Node selector or requests that no node can satisfy (Kubernetes)."),
    FailureMode("PodOutOfMemory", "kubernetes", "The container exceeds its memory limit (Kubernetes)."),
    FailureMode("KubernetesCrashLoopBackOff", "kubernetes", "The scoring container keeps crashing (Kubernetes)."),
    FailureMode("UserScriptInitFailed", "kubernetes", "init() raised (Kubernetes)."),
    FailureMode("UserScriptImportError", "kubernetes", "score.py imports a package the image lacks (Kubernetes)."),
    FailureMode("UserScriptFunctionNotFound", "kubernetes", "score.py has no init() or run() (Kubernetes)."),
    FailureMode("EndpointAlreadyExists", "kubernetes",
                "A Kubernetes endpoint of that name already exists in the workspace or cluster.",
                "Needs the workspace's current endpoints; amlforge azure what-if shows it."),
    FailureMode("ImagePullLoopBackOff", "kubernetes", "The cluster cannot pull the image (Kubernetes)."),
    FailureMode("HTTP 401", "scoring", "Missing or expired key/token, or the wrong auth mode for the client."),
    FailureMode("HTTP 404", "scoring", "No deployment receives traffic (traffic is empty or sums to 0)."),
    FailureMode("HTTP 408", "scoring", "The model took longer than request_timeout_ms."),
    FailureMode("HTTP 409", "scoring", "Another operation is in progress (Kubernetes).",
                "Depends on concurrent operations at run time."),
    FailureMode("HTTP 424", "scoring", "The model container returned an error (run() raised, or probes failing)."),
    FailureMode("HTTP 429", "scoring",
                "Too many pending requests (> 2 x max_concurrent_requests_per_instance x instance_count) or the "
                "endpoint RPS limit."),
    FailureMode("HTTP 500", "scoring", "Platform failure.", "Service faults cannot be predicted from configuration."),
    FailureMode("HTTP 502", "scoring",
                "run() crashed (Kubernetes), or the container is still installing conda packages at start."),
    FailureMode("HTTP 503", "scoring", "Traffic spikes faster than autoscale (Kubernetes)."),
    FailureMode("HTTP 504", "scoring", "Request timeout (Kubernetes; default 5 s)."),
)

CODES = frozenset(m.code for m in FAILURE_MODES)

__all__ = ["CODES", "FAILURE_MODES", "FailureMode"]
