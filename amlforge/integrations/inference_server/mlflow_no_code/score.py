"""amlforge smoke's stand-in for the platform's no-code MLflow scoring script.

Azure ML serves an MLflow model deployed without ``code_configuration`` with its own scoring
script (``mlflow_score_script.py`` of the ``mlflow-py312-inference`` environment), in an
environment built from the model's own conda file. This script reproduces what matters for a
smoke test, written from that behaviour (not copied):
- it imports ``azureml.ai.monitoring`` at import time, as the platform's script does, so a
  model conda file without ``azureml-ai-monitoring`` fails to start here as it does in Azure;
- ``init()`` loads the model with ``mlflow.pyfunc.load_model`` from
  ``$AZUREML_MODEL_DIR/$MLFLOW_MODEL_FOLDER``;
- ``run()`` takes the body's ``input_data`` (pandas "split" orientation, or a list/array) and
  returns the predictions as JSON-able data.
"""

import json
import os

import azureml.ai.monitoring  # noqa: F401  (the platform's scorer imports its Collector)
import mlflow.pyfunc

model = None


def init():
    global model
    folder = os.path.join(os.environ["AZUREML_MODEL_DIR"], os.environ.get("MLFLOW_MODEL_FOLDER", ""))
    model = mlflow.pyfunc.load_model(folder)


def run(raw_data):
    body = json.loads(raw_data)
    if not isinstance(body, dict) or "input_data" not in body:
        raise ValueError("Request must contain a top level key named 'input_data'")
    data = body["input_data"]
    if isinstance(data, dict) and "columns" in data and "data" in data:
        import pandas as pd

        data = pd.DataFrame(data["data"], columns=data["columns"], index=data.get("index"))
    result = model.predict(data)
    if hasattr(result, "to_dict"):
        return result.to_dict(orient="records")
    if hasattr(result, "tolist"):
        return result.tolist()
    return result
