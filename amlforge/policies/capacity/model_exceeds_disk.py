"""The model plus the environment may not fit on the VM's temporary disk.

## What it does
For managed deployments whose model size is known (a local model file or folder, measured on
disk, or the `model_sizes` option for registered models), adds an estimate of the image and
conda environment and compares the total with a conservative share of the VM's temporary disk
(the disk column of the SKU list). Reports the figures and the smallest size that fits.

This is a heuristic: the docs do not say how much of the temp disk the inference container
may use (**unconfirmed**), only that OutOfQuota happens when "the model is larger than the
available disk space". amlforge therefore counts half the temp disk as usable by default.

## Why is this bad?
The model cannot be downloaded to the instance and the deployment fails with OutOfQuota
(disk), after the image has been built and the VMs provisioned.

## Example
```yaml
# model_sizes = {"azureml:llm:3" = "12Gi"} in [tool.amlforge.options]
name: blue
endpoint_name: my-endpoint
model: azureml:llm:3
instance_type: Standard_DS2_v2     # 14 GiB temp disk
instance_count: 3
```
Use instead:
```yaml
name: blue
endpoint_name: my-endpoint
model: azureml:llm:3
instance_type: Standard_D4a_v4     # 100 GiB temp disk
instance_count: 3
```

## Options
- `model_sizes` (table, e.g. `{"azureml:llm:3" = "12Gi"}`): sizes of registered models, which
  amlforge cannot measure (units `Ki`, `Mi`, `Gi`, `K`, `M`, `G`, `GB`, `MB`).
- `disk_fraction` (default 0.5): the share of the temp disk counted as usable.
- `environment_disk_gib` (default 3): estimate of a CPU image plus its conda environment
  (Azure ML base images are 1-2 GiB compressed; a conda environment with a framework adds
  1-2 GiB).
- `gpu_environment_disk_gib` (default 10): the same for a GPU size or a CUDA environment (CUDA
  base images and CUDA builds of the frameworks are several GiB each).

## References
- [Troubleshooting: OutOfQuota, disk quota](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
- [Managed online endpoints SKU list](https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
"""

from collections.abc import Iterator

from amlforge.policies.capacity._helpers import (
    GIB,
    fmt_gib,
    gpu_intent,
    keeps_hardware,
    managed_with_sku,
    number_option,
    smallest_sku,
    type_anchor,
)
from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project


@rule("AML212", "model-exceeds-disk", Severity.WARNING, prevents=("OutOfQuota",))
def check(project: Project) -> Iterator[Violation]:
    options = None
    for dep, sku in managed_with_sku(project):
        size = project.model_size(dep)
        if size is None:
            continue
        if options is None:
            options = (
                number_option(project, "disk_fraction", 0.5, maximum=1.0),
                number_option(project, "environment_disk_gib", 3, strict=False),
                number_option(project, "gpu_environment_disk_gib", 10, strict=False),
            )
        fraction, cpu_env, gpu_env = options
        model_gib = size[0] / GIB
        gpu = sku.is_gpu or bool(gpu_intent(project, dep).gpu)
        env_gib = gpu_env if gpu else cpu_env
        need = model_gib + env_gib
        usable = sku.disk_gib * fraction
        if need <= usable:
            continue
        same = keeps_hardware(sku)
        bigger = smallest_sku(project, lambda s, f=fraction, n=need, same=same: s.disk_gib * f >= n and same(s), gpu=sku.is_gpu)
        yield Violation(
            type_anchor(dep),
            f"the model ({fmt_gib(model_gib)}, {size[1]}) plus an estimated {fmt_gib(env_gib)} for the "
            f"{'GPU ' if gpu else ''}image and environment needs {fmt_gib(need)} of disk; {sku.name} has a "
            f"{fmt_gib(sku.disk_gib)} temp disk, of which amlforge counts {fraction:.0%} ({fmt_gib(usable)}) "
            "as usable (the real share is undocumented)",
            (f"use {bigger.name} ({fmt_gib(bigger.disk_gib)} temp disk) or larger" if bigger else
             "no managed size has enough temp disk: shrink the model (quantize, shard) or use Kubernetes")
            + "; tune the disk_fraction option if your deployments show more usable space",
        )
