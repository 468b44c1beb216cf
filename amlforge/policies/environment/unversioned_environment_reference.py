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

## References
- reference-yaml-core-syntax.md (`azureml:<name>:<version>`, `@latest`), reference-yaml-core-syntax.md
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project
from amlforge.specs.references import parse_asset_ref


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
                        if parsed.form == "short" else "add /versions/<version> to the reference")
