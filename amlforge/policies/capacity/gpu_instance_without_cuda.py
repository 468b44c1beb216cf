"""A GPU VM size runs an environment that cannot use the GPU (a CPU image or CPU-only packages).

## What it does
For managed deployments on a GPU size (N-series), inspects the environment:
- a warning when it is explicitly CPU-only: a `-cpu` image or curated environment, `cpuonly`,
  `pytorch-cpu`, `tensorflow-cpu`, `+cpu` wheels or the PyTorch CPU wheel index, and no package
  that names CUDA or can use a GPU by itself;
- an info when the image is a CPU `mcr.microsoft.com/azureml/` image (Microsoft names the CUDA
  variants `cuda...`/`gpu`) and no package brings CUDA or a GPU-capable framework (`torch`
  from PyPI bundles CUDA, so it counts, as do xgboost, catboost, transformers and the like).

Environments amlforge cannot see (registered references, Docker build contexts, custom images)
are not reported unless their name says `cpu`.

## Why is this bad?
The model runs on the CPU while the GPU is paid for and idle, and the deployment consumes GPU
family quota, which starts at 0 and is scarce. A scoring script that asks for `cuda` fails in
`init()` (ResourceNotReady) because the image has no CUDA runtime.

## Example
```yaml
name: gpu-blue
endpoint_name: my-endpoint
environment:
  image: mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:20260701.v1
instance_type: Standard_NC4as_T4_v3
instance_count: 1
```
Use instead:
```yaml
name: gpu-blue
endpoint_name: my-endpoint
environment:
  image: mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cuda11.8-gpu-inference:20260701.v1
instance_type: Standard_NC4as_T4_v3
instance_count: 1
```

## References
- [Prebuilt inference images](https://learn.microsoft.com/azure/machine-learning/concept-prebuilt-docker-images-inference)
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


@rule("AML204", "gpu-instance-without-cuda", Severity.WARNING, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    for dep, sku in managed_with_sku(project):
        if not sku.is_gpu:
            continue
        intent = gpu_intent(project, dep)
        if intent.gpu or intent.capable:
            continue  # CUDA named, or a framework that brings its own (torch wheels bundle the CUDA runtime)
        cpu = smallest_sku(project, lambda s, sku=sku: s.vcpus >= sku.vcpus and s.memory_gib >= sku.memory_gib, gpu=False)
        alternative = f"or run it on a CPU size such as {cpu.name}" if cpu else "or run it on a CPU size"
        if intent.cpu:
            yield Violation(
                type_anchor(dep),
                f"{sku.name} has {_gpus(sku.gpus)} {sku.gpu_type} but the environment is CPU-only ({intent.cpu[0]})",
                f"use a CUDA image and CUDA builds of the packages, {alternative}",
            )
        elif intent.inspected and intent.azureml_base and not intent.capable:
            yield Violation(
                type_anchor(dep),
                f"{sku.name} has {_gpus(sku.gpus)} {sku.gpu_type} but nothing in the environment uses CUDA "
                "(a CPU base image and no CUDA or GPU-capable package)",
                f"use a CUDA base image (e.g. openmpi5.0-cuda12.4-ubuntu22.04) with CUDA packages, {alternative}",
                severity=Severity.INFO,
            )


def _gpus(count: float) -> str:
    if count >= 1:
        return f"{count:g} x"
    return f"1/{round(1 / count)} of a"
