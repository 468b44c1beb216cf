"""The scoring script opens a model file that will not exist under `AZUREML_MODEL_DIR`.

## What it does
Finds the paths the scoring script builds from `AZUREML_MODEL_DIR` with literal segments
(`os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl")`,
`os.environ["AZUREML_MODEL_DIR"]`, `Path(os.getenv(...)) / "x"`, f-strings, and local
variables that hold such paths) and checks them against the deployment's local model path:

- a model **folder** `./model` is uploaded with its name, so its files are under
  `$AZUREML_MODEL_DIR/model/...`;
- a single model **file** `./model.pkl` appears as `$AZUREML_MODEL_DIR/model.pkl`.

A TensorFlow checkpoint prefix (`model.ckpt`, with `model.ckpt.index` and `model.ckpt.data-*`
beside it) counts as present: `Saver.restore` and `Checkpoint.read` take the prefix.

Only local model paths (inline, or a model YAML of the project that the deployment names by
reference) are checked. Paths the script tests first (`os.path.exists`, `.is_file()`), paths
built in a `try` that catches `FileNotFoundError`/`OSError`, glob patterns and writes are
skipped, as are deployments with `model_mount_path`.

## Why is this bad?
`init()` raises `FileNotFoundError`, the server stops, and the deployment ends in
ResourceNotReady (UserScriptInitFailed on Kubernetes) once the probes give up. The mistake is
common when a model moves from a single file to a folder, or the folder is renamed.

## Example
```yaml
# score.py: joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))
model:
  path: ./model-v2        # holds classifier.joblib
```
Use instead:
```yaml
# score.py: joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model-v2", "classifier.joblib"))
model:
  path: ./model-v2
```

## References
- [Specify the model to deploy for use in online endpoints](https://learn.microsoft.com/azure/machine-learning/concept-online-deployment-model-specification)
  (`AZUREML_MODEL_DIR` and the file and folder layouts).
- Azure/azureml-examples `cli/endpoints/online/model-1/onlinescoring/score.py` ("Please provide
  your model's folder name if there is one").
"""

import posixpath
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._layout import model_layout
from amlforge.policies.scoring._model_paths import ENV_NAME, model_paths
from amlforge.policies.scoring._script import parsed_scripts
from amlforge.specs.project import Project


@rule("AML506", "missing-model-file", Severity.ERROR, prevents=("ResourceNotReady", "UserScriptInitFailed"))
def check(project: Project) -> Iterator[Violation]:
    seen: set[tuple] = set()
    for script in parsed_scripts(project):
        parsed = script.parsed
        assert parsed is not None and parsed.tree is not None
        layout = model_layout(project, script.deployment)
        if layout is None:
            continue
        uses = project.memo(("scoring.model_paths", parsed.display), lambda t=parsed.tree: model_paths(t))
        for use in uses:
            missing = layout.missing_prefix(use.path.parts)
            if missing is None:
                continue
            key = (parsed.display, missing, layout.raw, layout.local)
            if key in seen:
                continue
            seen.add(key)
            where = f"{use.function}()" if use.function else "the script"
            shown = use.path.text()
            if missing[0] != layout.root:
                mounted = (f"is mounted at ${ENV_NAME}/{layout.root}/" if layout.is_dir
                           else f"is mounted as ${ENV_NAME}/{layout.root}")
                holds = ", ".join(layout.sample())
                message = f"{where} uses {shown}, but model '{layout.raw}' {mounted}"
                if layout.is_dir and holds:
                    message += f" (it holds {holds})"
            else:
                message = (f"{where} uses {shown}, but model '{layout.raw}' has no "
                           f"{posixpath.join(*missing[1:]) if len(missing) > 1 else missing[0]}")
            found = layout.find(use.path.parts[-1])
            if found:
                hint = f"use ${ENV_NAME}/{found}"
            elif missing[0] != layout.root:
                kind = "folder" if layout.is_dir else "file"
                hint = f"start the path with the model {kind} name: ${ENV_NAME}/{layout.root}"
            else:
                hint = "add the file to the model folder, or fix the path"
            yield Violation(parsed.location(use.node), message, hint)
