"""`run()` loads the model on every request.

## What it does
Reports calls in the body of `run()` that load a model: `joblib.load`, `pickle.load`,
`torch.load`, `load_model(...)` (Keras, MLflow, XGBoost), `*.from_pretrained(...)`,
`onnxruntime.InferenceSession(...)`, and any call that reads a path under
`AZUREML_MODEL_DIR`. A load guarded by a cache test (`if model is None:`) is accepted.

This is a heuristic (warning): the list of loader names is amlforge's, not Azure ML's.

## Why is this bad?
The server calls `init()` once per worker and `run()` once per request; the docs put model
loading in `init()`. Loading in `run()` adds the load time to every request, which turns
into HTTP 408 once it exceeds `request_timeout_ms` (5 s by default) and into 429s as requests
queue up behind slow workers.

## Example
```yaml
# score.py: def run(raw_data): model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"))
request_settings:
  request_timeout_ms: 5000
```
Use instead:
```yaml
# score.py: load the model in init() into a global; run() only predicts
request_settings:
  request_timeout_ms: 5000
```

## References
- [Deploy a model to an online endpoint: understand the scoring script](https://learn.microsoft.com/azure/machine-learning/how-to-deploy-online-endpoints)
- [Troubleshooting online endpoints: HTTP 408](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
"""

import ast
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._model_paths import ModelPath, _Evaluator, _scope_values
from amlforge.policies.scoring._script import parsed_scripts
from amlforge.specs.project import Project

#: (owner, function) pairs that load a model; owner "" matches any or none.
LOADERS = {
    ("joblib", "load"), ("pickle", "load"), ("cloudpickle", "load"), ("dill", "load"), ("torch", "load"),
    ("", "load_model"), ("", "from_pretrained"), ("", "InferenceSession"), ("", "load_learner"),
    ("", "load_state_dict_from_url"),
}


@rule("AML507", "model-loaded-in-run", Severity.WARNING, prevents=("HTTP 408",))
def check(project: Project) -> Iterator[Violation]:
    seen: set[str] = set()
    for script in parsed_scripts(project):
        parsed = script.parsed
        assert parsed is not None and parsed.tree is not None
        if parsed.display in seen:
            continue
        seen.add(parsed.display)
        run = next((n for n in parsed.tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"), None)
        if run is None:
            continue
        module_scope = _scope_values(parsed.tree.body, [])
        evaluator = _Evaluator([_scope_values(run.body, [module_scope]), module_scope])
        for call in _calls_outside_cache_tests(run):
            what = _loader(call) or _reads_model_dir(call, evaluator)
            if what:
                yield Violation(
                    parsed.location(call),
                    f"run() calls {what} on every request",
                    "load the model once in init() and keep it in a global",
                )
                break  # one finding per run() is enough


def _loader(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        if (owner, func.attr) in LOADERS or ("", func.attr) in LOADERS:
            return f"{owner + '.' if owner else ''}{func.attr}()"
    elif isinstance(func, ast.Name) and ("", func.id) in LOADERS:
        return f"{func.id}()"
    return ""


def _reads_model_dir(call: ast.Call, evaluator: _Evaluator) -> str:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name not in ("open", "load", "read_text", "read_bytes", "read_csv", "read_parquet"):
        return ""
    for arg in call.args[:1]:
        value = evaluator.eval(arg)
        if isinstance(value, ModelPath) and value.parts:
            return f"{name}({value.text()})"
    return ""


def _calls_outside_cache_tests(fn: ast.FunctionDef) -> Iterator[ast.Call]:
    """Calls in ``fn``'s body, skipping nested functions and ``if x is None:``-style lazy loads."""
    stack: list[ast.AST] = list(reversed(fn.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and _is_cache_test(node.test):
            stack.extend(reversed(node.orelse))
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _is_cache_test(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value is None
                                                 for c in node.comparators):
            return True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("hasattr", "getattr"):
            return True
    return False
