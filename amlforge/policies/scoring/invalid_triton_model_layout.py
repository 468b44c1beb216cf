"""A local Triton model folder that is not a Triton model repository.

## What it does
For a `triton_model` with a local `path`, checks the Triton model repository layout that no-code
Triton deployments serve: the folder holds one folder per model, each with a `config.pbtxt` and
at least one numbered version folder (`<model>/<version>/model.*`).

## Why is this bad?
Triton refuses to start a model without `config.pbtxt` or a version folder ("failed to load
... no version is available"), so the no-code deployment never becomes ready (ResourceNotReady).

## Example
```yaml
model:
  name: densenet
  path: ./models/triton/densenet_onnx/1   # the version folder itself
  type: triton_model
```
Use instead:
```yaml
model:
  name: densenet
  path: ./models   # models/densenet_onnx/config.pbtxt, models/densenet_onnx/1/model.onnx
  type: triton_model
```

## References
- [Deploy a model to an online endpoint using Triton](https://learn.microsoft.com/azure/machine-learning/how-to-deploy-with-triton)
- Triton model repository layout: triton-inference-server/server `docs/user_guide/model_repository.md`
"""

import os
from collections.abc import Iterator
from pathlib import Path

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project, is_local_path


@rule("AML512", "invalid-triton-model-layout", Severity.ERROR, prevents=("ResourceNotReady",))
def check(project: Project) -> Iterator[Violation]:
    seen: set[Path] = set()
    for model in project.models:
        spec = model.spec
        if spec.type != "triton_model" or not spec.path or not is_local_path(spec.path):
            continue
        folder = project.local_path(model, spec.path)
        if not folder.exists or folder.path in seen:
            continue  # a missing path is AML106's
        seen.add(folder.path)
        problem = _problem(folder.path) if folder.is_dir else f"'{spec.path}' is a file"
        if problem:
            yield Violation(model.at("path"), f"triton_model path {problem}; Triton needs a model repository",
                            "point path at a folder holding <model>/config.pbtxt and <model>/<version>/model.*")


def _problem(root: Path) -> str:
    try:
        models = sorted(e for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))[:200]
    except OSError:
        return ""
    if not models:
        return f"'{root.name}' holds no model folder"
    for m in models:
        entries = {e.name: e for e in os.scandir(m.path)}
        if "config.pbtxt" not in entries:
            return f"model folder '{m.name}' has no config.pbtxt"
        versions = [e for name, e in entries.items() if name.isdigit() and e.is_dir()]
        if not versions:
            return f"model folder '{m.name}' has no numbered version folder (e.g. {m.name}/1/)"
        if not any(any(os.scandir(v.path)) for v in versions):
            return f"the version folders of '{m.name}' are empty"
    return ""
