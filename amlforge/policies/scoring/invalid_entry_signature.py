"""`init()` or `run()` has a signature the inference server cannot call.

## What it does
Checks the module-level `def init` and `def run` of the entry script against what
`azureml-inference-server-http` does with them:

- `init()` is called with no arguments, so a parameter without a default fails;
- `run()` needs a parameter for the input (other than `request_headers`), and may not take
  positional-only parameters, `*args` or `**kwargs`;
- `run()` cannot carry both `@rawhttp` and `@input_schema`;
- `async def` is reported for both: the server calls them without awaiting, so an async
  `init()` never runs its body (the model is never loaded) and an async `run()` returns a
  coroutine instead of a result.

`run()` with decorators other than `rawhttp`, `input_schema` and `output_schema` is skipped:
a decorator can change the signature.

## Why is this bad?
The server validates `run()` when it loads the script and stops with a `UserScriptError`
("run() needs to accept an argument for input data", "run() cannot accept positional-only
arguments, *args, or **kwargs"); an `init()` that needs arguments raises `TypeError` at
start-up. Either way the container never becomes ready (ResourceNotReady; on Kubernetes
UserScriptInitFailed). An async `run()` fails every request.

## Example
```yaml
# onlinescoring/score.py: "def init(model_dir):" and "def run(*args):"
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```
Use instead:
```yaml
# onlinescoring/score.py: "def init():" and "def run(raw_data):"
code_configuration:
  code: ./onlinescoring
  scoring_script: score.py
```

## References
- `azureml-inference-server-http` 1.5.1, `server/user_script.py` (`invoke_init`, `_analyze_run`).
"""

import ast
from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._script import parsed_scripts
from amlforge.specs.project import Project

KNOWN_DECORATORS = {"rawhttp", "input_schema", "output_schema"}


@rule("AML504", "invalid-entry-signature", Severity.ERROR,
      prevents=("ResourceNotReady", "UserScriptInitFailed", "HTTP 424"))
def check(project: Project) -> Iterator[Violation]:
    seen: set[str] = set()
    for script in parsed_scripts(project):
        parsed = script.parsed
        assert parsed is not None and parsed.tree is not None
        if parsed.display in seen:
            continue
        seen.add(parsed.display)
        functions = {}
        for node in parsed.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("init", "run"):
                functions[node.name] = node  # the last definition wins, as at import time
        for name, fn in sorted(functions.items()):
            problem, hint = _init_problem(fn) if name == "init" else _run_problem(fn)
            if problem:
                yield Violation(parsed.location(fn), problem, hint)


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _init_problem(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str]:
    if isinstance(fn, ast.AsyncFunctionDef):
        return ("init() is async: the server calls it without awaiting, so its body never runs",
                "make init() a plain def (run async work with asyncio.run inside it)")
    args = fn.args
    positional = args.posonlyargs + args.args
    required = positional[: len(positional) - len(args.defaults)]
    required += [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if required:
        names = ", ".join(a.arg for a in required)
        plural = "s" if len(required) > 1 else ""
        return (f"init() requires {len(required)} argument{plural} ({names}), but the server calls init() with none",
                "remove the parameters or give them defaults; read paths from AZUREML_MODEL_DIR")
    return "", ""


def _run_problem(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str]:
    decorators = [_decorator_name(d) for d in fn.decorator_list]
    if any(d not in KNOWN_DECORATORS for d in decorators):
        return "", ""
    if isinstance(fn, ast.AsyncFunctionDef):
        return ("run() is async: the server calls it without awaiting and gets a coroutine, not a result",
                "make run() a plain def")
    if "rawhttp" in decorators and "input_schema" in decorators:
        return ("run() is decorated with both @rawhttp and @input_schema, which the server rejects",
                "keep one of the two decorators")
    args = fn.args
    if args.posonlyargs or args.vararg or args.kwarg:
        kinds = []
        if args.posonlyargs:
            kinds.append("positional-only parameters")
        if args.vararg:
            kinds.append(f"*{args.vararg.arg}")
        if args.kwarg:
            kinds.append(f"**{args.kwarg.arg}")
        return (f"run() takes {' and '.join(kinds)}, which the server rejects",
                "declare named parameters, e.g. def run(raw_data):")
    data = [a for a in args.args + args.kwonlyargs if a.arg != "request_headers"]
    if not data:
        return ("run() takes no parameter for the input data",
                "declare one, e.g. def run(raw_data):")
    return "", ""
