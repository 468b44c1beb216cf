"""A model or environment reference without the `azureml:` prefix or in no known form.

## What it does
Reports string references to registered assets that are not `azureml:<name>:<version>`,
`azureml:<name>@<label>`, a longhand `azureml:/subscriptions/...` ARM id or an
`azureml://registries/...` id.

## Why is this bad?
The az CLI rejects `model: my-model:1` ("In order to specify an existing models, please
provide ... prefix").

## Example
```yaml
model: my-model:1
```
Use instead:
```yaml
model: azureml:my-model:1
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML110", "invalid-asset-reference", Severity.ERROR, prevents=("BadArgument",))
