"""The scoring script defines no `init()` or no `run()`.

## What it does
Reads the entry script's module-level names (functions, assignments and imports, also inside
top-level `if`/`try` blocks) and reports a script without `init` or without `run`. When a
function with a likely name exists instead (`load_model`, `predict`, ...), the finding points
at it. A script with `from x import *` is skipped: its names cannot be known statically.

## Why is this bad?
After importing the script, the inference server checks for both functions ("User script ...
does not have a init() function defined") and stops. The container never becomes ready:
ResourceNotReady on managed endpoints, UserScriptFunctionNotFound on Kubernetes.

## Example
```yaml
# onlinescoring/score.py defines load_model() and run(raw_data), no init()
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```
Use instead:
```yaml
# onlinescoring/score.py: rename load_model() to init()
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```

## References
- `azureml-inference-server-http` 1.5.1, `server/user_script.py` (`load_script`).
- [How to deploy online endpoints: scoring script](https://learn.microsoft.com/azure/machine-learning/how-to-deploy-online-endpoints)
"""

import ast
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._script import parsed_scripts, top_level_defs
from amlforge.specs.project import Project

#: Names people give the functions the server expects.
LIKELY = {
    "init": ("initialize", "initialise", "init_model", "load_model", "load", "setup", "startup", "on_start",
             "Init", "_init", "init_"),
    "run": ("score", "predict", "inference", "infer", "run_inference", "handler", "handle", "Run", "_run",
            "run_", "scoring", "predict_fn", "main"),
}


@rule("AML503", "missing-entry-function", Severity.ERROR, prevents=("ResourceNotReady", "UserScriptFunctionNotFound"))
def check(project: Project) -> Iterator[Violation]:
    seen: set[tuple[str, str]] = set()
    for script in parsed_scripts(project):
        parsed = script.parsed
        assert parsed is not None and parsed.tree is not None
        if (parsed.display, "init") in seen and (parsed.display, "run") in seen:
            continue
        names = project.memo(("scoring.defs", parsed.display), lambda t=parsed.tree: top_level_defs(t))
        seen.add((parsed.display, "init"))
        seen.add((parsed.display, "run"))
        if "*" in names:
            continue
        for wanted in ("init", "run"):
            if wanted in names:
                continue
            instead = _likely(parsed.tree, wanted)
            signature = "init()" if wanted == "init" else "run(raw_data)"
            if instead is not None:
                yield Violation(
                    parsed.location(instead),
                    f"{script.raw} has no {wanted}() function; the server never calls {instead.name}()",
                    f"rename {instead.name}() to {wanted}()" if wanted == "init" or instead.args.args
                    else f"define {signature}",
                )
            else:
                yield Violation(
                    parsed.location(),
                    f"{script.raw} has no {wanted}() function at module level",
                    f"define {signature} at module level",
                )


def _likely(tree: ast.Module, wanted: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for fn in functions:
        if fn.name in LIKELY[wanted]:
            return fn
    import difflib  # here: ~1 ms of start-up, used only to suggest or show a diff
    close = difflib.get_close_matches(wanted, [f.name for f in functions], n=1, cutoff=0.75)
    return next((f for f in functions if close and f.name == close[0]), None)
