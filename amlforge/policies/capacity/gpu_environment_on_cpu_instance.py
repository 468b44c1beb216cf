"""A deployment whose environment targets NVIDIA GPUs runs on a VM size without a GPU.

## What it does
Detects GPU intent in a managed deployment's environment and reports it when `instance_type`
has no GPU. GPU intent is explicit only: a CUDA/GPU base image (`cuda`, `cudnn` or `gpu` in the
image or curated environment name), or packages that exist only for NVIDIA GPUs: `pytorch-cuda`,
`cudatoolkit`, `cuda-*`, `nvidia-*`, `cupy-cuda*`, `onnxruntime-gpu`, `tensorflow-gpu`,
`tensorflow[and-cuda]`, `jax[cuda12]`, a `+cu121` wheel, a conda build string with `cuda`, or
the PyTorch CUDA wheel index. A plain `torch` or `tensorflow` is not GPU intent: both run on
CPU.

## Why is this bad?
A scoring script written for a GPU (`model.to("cuda")`, `device_map="cuda"`) fails in `init()`
on a CPU VM and the deployment ends in ResourceNotReady. Even when the code falls back to CPU,
CUDA images and packages are several GB larger, which slows the image build and the container
start.

## Example
```yaml
name: blue
endpoint_name: my-endpoint
environment:
  image: mcr.microsoft.com/azureml/openmpi5.0-cuda12.4-ubuntu22.04:20260715.v1
  conda_file: environment/conda.yaml
instance_type: Standard_DS3_v2
instance_count: 1
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
environment:
  image: mcr.microsoft.com/azureml/openmpi5.0-cuda12.4-ubuntu22.04:20260715.v1
  conda_file: environment/conda.yaml
instance_type: Standard_NC4as_T4_v3
instance_count: 1
```

## References
- [Prebuilt inference images](https://learn.microsoft.com/azure/machine-learning/concept-prebuilt-docker-images-inference)
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import (
    gpu_intent,
    managed_with_sku,
    smallest_sku,
    type_anchor,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML203", "gpu-environment-on-cpu-instance", Severity.WARNING, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    for dep, sku in managed_with_sku(project):
        if sku.is_gpu:
            continue
        intent = gpu_intent(project, dep)
        if not intent.gpu:
            continue
        reason = intent.gpu[0] + (f" (and {len(intent.gpu) - 1} more)" if len(intent.gpu) > 1 else "")
        gpu = smallest_sku(project, lambda s, sku=sku: s.gpus >= 1 and s.memory_gib >= sku.memory_gib, gpu=True)
        yield Violation(
            type_anchor(dep),
            f"the environment targets NVIDIA GPUs ({reason}) but {sku.name} has no GPU",
            (f"use a GPU size such as {gpu.name}, or a CPU image and CPU packages" if gpu else
             "use a GPU size, or a CPU image and CPU packages"),
        )
