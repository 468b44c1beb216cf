"""Shared code of the capacity rules: SKU look-ups, GPU intent, MLflow detection, options, sizes.

Not a rule (the catalog loader skips ``_`` modules). Everything here is a pure function of the
:class:`~amlforge.specs.project.Project`; per-deployment facts are memoised with ``project.memo``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from amlforge._regex import LazyPattern
from amlforge.errors import UserInputError

if TYPE_CHECKING:
    from amlforge.specs.deployment import OnlineDeploymentBase
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.project import Anchor, Loaded, Project
    from amlforge.specs.sku import Sku

GIB = 2**30

#: The Kubernetes instance type the Azure ML extension creates; its defaults are documented
#: (how-to-manage-kubernetes-instance-types.md): requests cpu 100m / memory 2Gi, limits cpu 2 / memory 2Gi.
DEFAULT_INSTANCE_TYPE = "defaultinstancetype"
DEFAULT_INSTANCE_REQUESTS = {"cpu": 0.1, "memory": 2 * GIB}
DEFAULT_INSTANCE_LIMITS = {"cpu": 2.0, "memory": 2 * GIB}


# --- deployments and SKUs ---------------------------------------------------------------------


def is_managed(dep: Loaded[OnlineDeploymentBase]) -> bool:
    return getattr(dep.spec, "kind", None) == "managed"


def sku_of(project: Project, dep: Loaded[OnlineDeploymentBase]) -> Sku | None:
    """The catalog SKU of a managed deployment (None for Kubernetes or unknown names)."""
    if not is_managed(dep):
        return None
    return project.skus.get(dep.spec.instance_type)


def managed_with_sku(project: Project) -> list[tuple[Loaded[OnlineDeploymentBase], Sku]]:
    """Managed deployments whose instance_type is in the catalog, in load order."""

    def build() -> list[tuple[Loaded[OnlineDeploymentBase], Sku]]:
        out = []
        for dep in project.deployments:
            sku = sku_of(project, dep)
            if sku is not None:
                out.append((dep, sku))
        return out

    return project.memo(("capacity", "managed_with_sku"), build)


def count_anchor(dep: Loaded[OnlineDeploymentBase]) -> Anchor:
    """``instance_count`` when the file spells it out, else ``instance_type``, else the name."""
    for key in ("instance_count", "instance_type", "name"):
        anchor = dep.at(key)
        if anchor.spelled_out:
            return anchor
    return dep.at()


def type_anchor(dep: Loaded[OnlineDeploymentBase]) -> Anchor:
    """``instance_type`` when spelled out, else the deployment's name."""
    anchor = dep.at("instance_type")
    return anchor if anchor.spelled_out else (dep.at("name") if dep.at("name").spelled_out else dep.at())


def smallest_sku(project: Project, fits: Callable[[Sku], bool], *, gpu: bool | None) -> Sku | None:
    """The smallest fitting SKU, preferring series without an announced retirement."""
    current = project.skus.smallest(lambda s: s.retirement_status is None and fits(s), gpu=gpu)
    return current or project.skus.smallest(fits, gpu=gpu)


def keeps_hardware(sku: Sku) -> Callable[[Sku], bool]:
    """A predicate: at least the memory, GPUs and GPU memory of ``sku`` (for "use a bigger size" hints)."""

    def fits(s: Sku) -> bool:
        return (s.memory_gib >= sku.memory_gib and s.gpus >= sku.gpus
                and (s.gpu_memory_gib or 0) >= (sku.gpu_memory_gib or 0))

    return fits


def label(dep: Loaded[OnlineDeploymentBase]) -> str:
    """``endpoint/deployment`` (or the file name when unnamed)."""
    name = dep.spec.name or dep.doc.path.name
    return f"{dep.spec.endpoint_name}/{name}" if dep.spec.endpoint_name else name


# --- options ----------------------------------------------------------------------------------


def number_option(project: Project, name: str, default: float, *, minimum: float = 0.0,
                  maximum: float | None = None, strict: bool = True) -> float:
    """A numeric rule option; a bad value is a user error (exit 2) with the option's name."""
    value: Any = project.option(name, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = value > minimum if strict else value >= minimum
        if maximum is not None:
            ok = ok and value <= maximum
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")
        raise UserInputError(f"rule option '{name}' should be a number {bound}, got {value!r}", None,
                             f"set [tool.amlforge.options] {name} = {default:g}")
    return float(value)


# --- sizes ------------------------------------------------------------------------------------


def fmt_gib(gib: float) -> str:
    """``14 GiB``, ``3.5 GiB``, ``0.25 GiB``; ``120 MiB`` below 1 GiB."""
    if gib < 1:
        mib = gib * 1024
        return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.1f} MiB"
    return f"{gib:.0f} GiB" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f} GiB"


def worker_count(dep: Loaded[OnlineDeploymentBase]) -> tuple[int, str]:
    """Inference-server worker processes per instance and where the figure comes from.

    ``WORKER_COUNT`` when set to a positive integer; otherwise 1, the inference server's default
    (``azmlinfsrv --worker_count 1``). Each worker runs ``init()`` and loads its own model copy.
    """
    env = dep.spec.environment_variables or {}
    raw = env.get("WORKER_COUNT")
    if raw is not None:
        try:
            value = int(str(raw).strip())
        except ValueError:
            value = 0
        if value >= 1:
            return value, f"{value} worker{'s' if value > 1 else ''} (WORKER_COUNT)"
    return 1, "1 worker (the inference server's default)"


# --- models and MLflow ------------------------------------------------------------------------


def model_spec_of(project: Project, dep: Loaded[OnlineDeploymentBase]) -> ModelSpec | None:
    """The deployment's inline model, or a model file of the run it names by reference."""
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.references import parse_asset_ref

    model = dep.spec.model
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        ref = parse_asset_ref(model)
        if ref is not None:
            for m in project.models:
                if m.spec.name == ref.name and (ref.version is None or str(m.spec.version) == ref.version):
                    return m.spec
    return None


def mlflow_no_code(project: Project, dep: Loaded[OnlineDeploymentBase]) -> str | None:
    """Why a deployment is an MLflow no-code deployment (conda installed at container start), or None."""
    if dep.spec.environment is not None or dep.spec.code_configuration is not None:
        return None
    spec = model_spec_of(project, dep)
    if spec is not None:
        return "an MLflow model without an environment" if spec.type == "mlflow_model" else None
    if isinstance(dep.spec.model, str):
        return "a registered model deployed without an environment (only MLflow models can be)"
    return None


# --- GPU intent -------------------------------------------------------------------------------

_GPU_WORD = LazyPattern(r"(?<![a-z])(cuda|cudnn|gpu)", re.IGNORECASE)
_CPU_WORD = LazyPattern(r"(?<![a-z])cpu(?![a-z])", re.IGNORECASE)
_CUDA_WORD = LazyPattern(r"(?<![a-z])cuda", re.IGNORECASE)
_PIP_CUDA_LOCAL = LazyPattern(r"\+cu\d", re.IGNORECASE)
_EXTRAS = LazyPattern(r"\[([^\]]*)\]")
#: Packages that only exist to run on NVIDIA GPUs (normalised names).
_GPU_PACKAGES = {
    "pytorch-cuda", "cudatoolkit", "cudnn", "nccl", "tensorrt", "tensorflow-gpu", "onnxruntime-gpu",
    "paddlepaddle-gpu", "cupy", "pytorch-gpu", "faiss-gpu", "jaxlib-cuda", "torch-tensorrt",
}
_GPU_PREFIXES = ("cuda-", "nvidia-", "cupy-cuda", "mxnet-cu", "tensorrt-")
#: Packages whose default Linux builds use a GPU when one is present, without naming CUDA
#: (torch wheels on PyPI bundle the CUDA runtime; xgboost and catboost wheels ship GPU support;
#: the others install torch). Their presence means "not obviously CPU-only".
_GPU_CAPABLE = {
    "torch", "pytorch", "torchvision", "torchaudio", "vllm", "xgboost", "catboost", "transformers",
    "sentence-transformers", "accelerate", "diffusers", "timm", "lightning", "pytorch-lightning",
    "ultralytics", "deepspeed", "bitsandbytes", "optimum", "peft", "text-generation", "tensorflow",
}
_CPU_PACKAGES = {"cpuonly", "pytorch-cpu", "tensorflow-cpu", "faiss-cpu", "onnxruntime-cpu"}
#: Markers that make every PyTorch package of the environment a CPU build.
_TORCH_CPU_MARKERS = {"cpuonly", "pytorch-cpu"}
_TORCH_FAMILY = {"torch", "pytorch", "torchvision", "torchaudio"}


class GpuIntent(Struct):
    """What an environment says about GPUs.

    Attributes:
        gpu: Reasons the environment targets NVIDIA GPUs (a CUDA image, CUDA packages).
        cpu: Reasons it is explicitly CPU-only (a ``-cpu`` image, ``cpuonly``, ``+cpu`` wheels).
        capable: Packages that use a GPU when present without naming CUDA (torch from PyPI, ...),
            minus PyTorch packages that a CPU marker (``cpuonly``, the CPU wheel index) makes CPU builds.
        inspected: Whether amlforge could see the environment's image and packages at all.
        azureml_base: The image is an ``mcr.microsoft.com/azureml/`` image (CUDA variants say so in the name).
    """

    gpu: list[str] = field(default_factory=list)
    cpu: list[str] = field(default_factory=list)
    capable: list[str] = field(default_factory=list)
    inspected: bool = False
    azureml_base: bool = False


def _image_words(text: str, intent: GpuIntent, what: str) -> None:
    if _GPU_WORD.search(text):
        intent.gpu.append(f"{what} '{text}' is a CUDA/GPU image")
    elif _CPU_WORD.search(text):
        intent.cpu.append(f"{what} '{text}' is a CPU image")


def _dependency_signal(name: str, raw: str, source: str) -> str | None:
    """'gpu', 'cpu', 'capable' or None for one conda/pip dependency."""
    lowered = raw.lower()
    rest = lowered.removeprefix(name)
    extras = " ".join(_EXTRAS.findall(lowered))
    if name in _CPU_PACKAGES or name.endswith("-cpu") or "+cpu" in lowered or (
            source == "conda" and _CPU_WORD.search(rest.replace("cpuonly", ""))):
        return "cpu"
    if (name in _GPU_PACKAGES or name.startswith(_GPU_PREFIXES) or _CUDA_WORD.search(lowered)
            or _PIP_CUDA_LOCAL.search(lowered) or "gpu" in extras):
        return "gpu"
    if name in _GPU_CAPABLE:
        return "capable"
    return None


def gpu_intent(project: Project, dep: Loaded[OnlineDeploymentBase]) -> GpuIntent:
    """What the deployment's environment says about GPUs (memoised per deployment)."""
    return project.memo(("capacity", "gpu_intent", id(dep)), lambda: _gpu_intent(project, dep))


def _gpu_intent(project: Project, dep: Loaded[OnlineDeploymentBase]) -> GpuIntent:
    from amlforge.specs.references import parse_asset_ref

    intent = GpuIntent()
    env = project.environment_of(dep)
    if env is None:
        ref = dep.spec.environment if isinstance(dep.spec.environment, str) else None
        parsed = parse_asset_ref(ref) if ref else None
        if parsed is not None:
            _image_words(parsed.name, intent, "environment")
        return intent
    spec = env.spec
    if spec.image:
        intent.azureml_base = spec.image.lower().startswith("mcr.microsoft.com/azureml/")
        _image_words(spec.image, intent, "image")
    conda = project.conda_for(env)
    if conda is not None:
        torch_cpu = False
        for option in conda.pip_options:
            low = option.lower()
            if "download.pytorch.org/whl/cpu" in low:
                intent.cpu.append(f"pip option '{option}' installs CPU-only PyTorch wheels")
                torch_cpu = True
            elif re.search(r"download\.pytorch\.org/whl/cu\d", low):
                intent.gpu.append(f"pip option '{option}' installs CUDA PyTorch wheels")
        capable = []
        for d in conda.dependencies:
            signal = _dependency_signal(d.name, d.raw, d.source)
            if signal == "gpu":
                intent.gpu.append(f"{d.source} dependency '{d.raw}' needs CUDA")
            elif signal == "cpu":
                intent.cpu.append(f"{d.source} dependency '{d.raw}' is CPU-only")
                torch_cpu = torch_cpu or d.name in _TORCH_CPU_MARKERS
            elif signal == "capable":
                capable.append(d)
        intent.capable = [d.raw for d in capable if not (torch_cpu and d.name in _TORCH_FAMILY)]
    # the image alone tells enough for MCR images; a conda file (or none, for a plain image) completes it
    intent.inspected = spec.image is not None and (conda is not None or spec.conda_file is None)
    return intent


__all__ = [
    "DEFAULT_INSTANCE_LIMITS",
    "DEFAULT_INSTANCE_REQUESTS",
    "DEFAULT_INSTANCE_TYPE",
    "GIB",
    "GpuIntent",
    "count_anchor",
    "fmt_gib",
    "gpu_intent",
    "is_managed",
    "keeps_hardware",
    "label",
    "managed_with_sku",
    "mlflow_no_code",
    "model_spec_of",
    "number_option",
    "sku_of",
    "smallest_sku",
    "type_anchor",
    "worker_count",
]
