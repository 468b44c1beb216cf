"""A scoring script of a v2 deployment that uses the SDK v1 model API (`azureml.core.Model`).

## What it does
Reads each deployment's scoring script (statically, never executed) and reports calls of
`Model.get_model_path(...)`, the SDK v1 (`azureml-core`) model API, in a script deployed to a (v2)
online endpoint. (An `azureml.core` import the environment does not install is AML505's.)

## Why is this bad?
Online endpoints put the model files under the folder named by the `AZUREML_MODEL_DIR`
environment variable; `Model.get_model_path` belongs to SDK v1 web services and either is not
importable (`azureml-core` is not in the environment: ModuleNotFoundError) or does not find the
model outside a v1 run context, so `init()` raises and the deployment ends in ResourceNotReady.

## Example
```yaml
# score.py
# from azureml.core.model import Model
# def init():
#     global model
#     model = joblib.load(Model.get_model_path("iris-model"))
```
Use instead:
```yaml
# score.py
# def init():
#     global model
#     model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))
```

## References
- [Upgrade deployment endpoints to SDK v2](https://learn.microsoft.com/azure/machine-learning/migrate-to-v2-deploy-endpoints)
- [Troubleshooting online endpoints](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

import ast
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._script import parsed_scripts
from amlforge.specs.project import Project


@rule("AML510", "sdk-v1-api-in-scoring-script", Severity.ERROR, prevents=("ResourceNotReady", "UserScriptInitFailed"))
def check(project: Project) -> Iterator[Violation]:
    seen: set[tuple[str, int, int]] = set()
    for script in parsed_scripts(project):
        tree = script.tree
        parsed = script.parsed
        if tree is None or parsed is None:
            continue
        for node in ast.walk(tree):
            found = _v1_use(node)
            if found is None:
                continue
            where = parsed.location(node)
            key = (where.file, where.line, where.column)
            if key in seen:
                continue
            seen.add(key)
            yield Violation(where, found,
                            "load the model from os.environ['AZUREML_MODEL_DIR'] instead of the SDK v1 Model API")


def _v1_use(node: ast.AST) -> str | None:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_model_path"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "Model"):
        return "Model.get_model_path() is the SDK v1 model API; it does not find the model in a v2 online deployment"
    return None
