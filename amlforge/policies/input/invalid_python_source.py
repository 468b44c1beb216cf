"""A Python file or notebook that uses azure-ai-ml does not parse.

## What it does
Reports a syntax error in a `.py` file that imports azure-ai-ml (or that was named on the
command line), a notebook cell that builds azure-ai-ml entities and does not parse, and a
notebook that is not valid JSON, at the line and column where parsing stopped. IPython magics
(`%pip`, `!az ...`, `%%bash` cells) are skipped, not reported. Python files that do not use
azure-ai-ml (a `score.py`, helpers) are never reported: amlforge reads only the deployment code.

## Why is this bad?
amlforge reads deployments built with the azure-ai-ml SDK without running them; a file that does
not parse cannot be read, so none of its deployments are checked. Python itself would stop there too.

## Example
```python
from azure.ai.ml.entities import ManagedOnlineDeployment
blue = ManagedOnlineDeployment(name="blue", instance_type="Standard_DS3_v2"
```
Use instead:
```python
from azure.ai.ml.entities import ManagedOnlineDeployment
blue = ManagedOnlineDeployment(name="blue", instance_type="Standard_DS3_v2")
```
"""

from amlforge.policies.registry import Severity, declare

declare(__name__, "AML006", "invalid-python-source", Severity.ERROR, fatal=True)
