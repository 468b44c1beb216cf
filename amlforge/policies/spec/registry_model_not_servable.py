"""A model from a registry whose models cannot be served by an online deployment.

## What it does
Reports a deployment whose `model` is a registry reference into a catalogue whose models are
offered only as a managed service, not as weights to serve on managed compute: Azure OpenAI
(`azureml://registries/azure-openai/...`).

## Why is this bad?
Azure OpenAI models are deployed to an Azure OpenAI (Foundry) resource, not to an online
endpoint; the deployment fails (the model has no assets an inference server can load).

## Example
```yaml
name: blue
endpoint_name: my-endpoint
model: azureml://registries/azure-openai/models/gpt-4o/versions/2024-08-06
instance_type: Standard_NC24ads_A100_v4
instance_count: 1
```
Use instead: deploy the model in Azure OpenAI (az cognitiveservices account deployment create), or
pick an open-weights model from the `azureml` registry for an online deployment.
"""

from collections.abc import Iterator

from amlforge.policies.registry import Severity, Violation, rule
from amlforge.specs.project import Project

#: Registries whose models are served only as a managed service (lower case).
NOT_SERVABLE = {"azure-openai": "Azure OpenAI"}


@rule("AML113", "registry-model-not-servable", Severity.ERROR, prevents=("BadArgument",))
def check(project: Project) -> Iterator[Violation]:
    for dep in project.deployments:
        model = dep.spec.model
        if not isinstance(model, str) or not model.lower().startswith("azureml://registries/"):
            continue
        registry = model.split("/")[3].lower() if len(model.split("/")) > 3 else ""
        if registry in NOT_SERVABLE:
            yield Violation(dep.at("model"),
                            f"{NOT_SERVABLE[registry]} models (registry '{registry}') cannot be served by an online "
                            "deployment",
                            "deploy it to an Azure OpenAI resource instead, or use an open-weights model from the "
                            "azureml registry")
