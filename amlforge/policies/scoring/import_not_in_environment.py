"""The scoring script imports a package the deployment's environment does not install.

## What it does
Collects the scoring script's imports (module level and inside functions; relative imports,
the standard library, optional imports in `try: ... except ImportError`, and modules that
exist as files or folders in the code folder are left out), maps each import name to the
distributions that provide it (`sklearn` -> `scikit-learn`, `cv2` -> `opencv-python`,
`PIL` -> `pillow`, `yaml` -> `pyyaml`, ...; table in `amlforge/data/import_names.json`) and
compares them with the conda and pip dependencies of the deployment's environment.

Packages that a listed package installs count as present: everything
`azureml-inference-server-http` (or `azureml-defaults`) depends on (Flask, pydantic,
requests, ...), and the hard dependencies of common frameworks (`scikit-learn` brings
`numpy`, `scipy` and `joblib`); see `amlforge/data/package_requires.json`. Relying on them is
legal but fragile: list what you import.

The check runs only where the environment's contents are known: a conda file on a Microsoft
Azure ML base image (`mcr.microsoft.com/azureml/...`), or a curated inference environment
(`minimal-py311-inference`, `minimal-py312-cuda12.4-inference`, `mlflow-py312-inference`)
without a conda file. Custom images, `build:` contexts, `pip -r` requirement files and
registered environments (`azureml:...`) that are not part of the linted project are skipped.

## Why is this bad?
The server imports the script when the container starts. A `ModuleNotFoundError` aborts the
start: the deployment fails with ResourceNotReady after the probes give up
(UserScriptImportError on Kubernetes), 10 to 20 minutes after `az ml online-deployment create`.

## Example
```yaml
# onlinescoring/score.py: "import lightgbm"; environment/conda.yaml:
dependencies:
  - python=3.11.9
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn==1.5.2
```
Use instead:
```yaml
dependencies:
  - python=3.11.9
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn==1.5.2
      - lightgbm==4.5.0
```

## References
- [Troubleshooting online endpoints: ResourceNotReady](https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints)
  ("a package imported but not in the conda env").
- `sys.stdlib_module_names` (Python 3.10+) decides what is standard library.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.policies.scoring._imports import (
    candidates,
    environment_packages,
    imports,
    is_stdlib,
    provided,
)
from amlforge.policies.scoring._script import code_modules, parsed_scripts
from amlforge.specs.project import Project


@rule("AML505", "import-not-in-environment", Severity.ERROR,
      prevents=("ResourceNotReady", "UserScriptImportError"))
def check(project: Project) -> Iterator[Violation]:
    # (file, line, column, module) -> (location, [(deployment, source)])
    missing: dict[tuple, tuple] = {}
    for script in parsed_scripts(project):
        parsed = script.parsed
        assert parsed is not None and parsed.tree is not None
        packages = environment_packages(project, script.deployment)
        if packages is None:
            continue
        local = code_modules(project, script.code.path)
        uses = project.memo(("scoring.imports", parsed.display), lambda t=parsed.tree: imports(t))
        for use in uses:
            root = use.module.split(".")[0]
            if is_stdlib(use.module) or root in local or provided(use.module, packages.names):
                continue
            loc = parsed.location(use.node)
            key = (loc.file, loc.line, loc.column, use.module)
            entry = missing.setdefault(key, (loc, use.module, []))
            entry[2].append((script.deployment.label, packages.source))
    for loc, module, where in missing.values():
        deployments = sorted({d for d, _ in where})
        sources = sorted({s for _, s in where})
        dist = candidates(module)[0]
        who = f"deployment {deployments[0]}" if len(deployments) == 1 else f"deployments {', '.join(deployments)}"
        yield Violation(
            loc,
            f"'{module}' is imported, but the environment of {who} ({'; '.join(sources)}) "
            f"does not install {dist}",
            f"add {dist} with an exact version to the pip section of the conda file, or remove the import",
        )
