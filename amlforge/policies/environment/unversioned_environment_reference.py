"""A deployment that references a registered environment without a version.

## What it does
Reports `environment:` references that do not name one version: a label
(`azureml:sklearn-env@latest`, `azureml://registries/azureml/environments/<name>/labels/latest`)
or no version at all (`azureml:sklearn-env`, an ARM id or registry id without `/versions/`).

## Why is this bad?
`@latest` resolves to the newest registered version when the deployment is created, so the
same YAML deploys a different environment after someone registers a new version, and a
rollback redeploys the new one. For a reference with no version the CLI sends the bare name;
which version the service picks is not documented (**unconfirmed**), and if the name is not
registered in this workspace the deployment fails with ResourceNotFound. Either way the
environment changes under you and its build or start-up failures (ImageBuildFailure,
ResourceNotReady) appear without a change in the YAML.

## Example
```yaml
environment: azureml:sklearn-env@latest
```
Use instead:
```yaml
environment: azureml:sklearn-env:3
```

## Fix safety
Unsafe, and only when an environment file of the run (an az-ml environment YAML with this
`name` and a `version`) says which version is current: the fix writes
`azureml:<name>:<version>` with the highest version such a file gives. Whether that version
is the one registered in the workspace is not something a local file can prove, so the fix
needs `--unsafe-fixes`.

## References
- reference-yaml-core-syntax.md (`azureml:<name>:<version>`, `@latest`), reference-yaml-core-syntax.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.edits import Applicability, Fix, replace_value
from amlforge.specs.project import Loaded, Project
from amlforge.specs.references import AssetRef, parse_asset_ref


@rule("AML416", "unversioned-environment-reference", Severity.WARNING,
      prevents=("ResourceNotFound", "ResourceNotReady"))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        ref = dep.spec.environment
        if not isinstance(ref, str):
            continue
        parsed = parse_asset_ref(ref)
        if parsed is None or parsed.version is not None:
            continue
        if parsed.label:
            message = (f"environment '{ref}' follows the label '{parsed.label}', so each deployment can get a "
                       "different version")
        else:
            message = f"environment '{ref}' names no version; which version the service uses is not documented"
        yield Violation(dep.at("environment"), message,
                        f"reference one version, e.g. azureml:{parsed.name}:<version>"
                        if parsed.form == "short" else "add /versions/<version> to the reference",
                        fix=_fix(project, dep, parsed))


def _fix(project: Project, dep: Loaded, parsed: AssetRef) -> Fix | None:
    if parsed.form != "short":
        return None
    versions = [str(env.spec.version) for env in project.environments
                if not env.prefix and env.spec.name == parsed.name and env.spec.version is not None]
    if not versions:
        return None
    current = max(versions, key=_version_key)
    anchor = dep.at("environment")
    new = f"azureml:{parsed.name}:{current}"
    return replace_value(anchor.doc.source, anchor.path, parsed.raw, new, f"Pin the environment to {new}",
                         Applicability.UNSAFE)


def _version_key(version: str) -> tuple:
    """Versions compare as numbers part by part (10 > 9), text parts after numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))
