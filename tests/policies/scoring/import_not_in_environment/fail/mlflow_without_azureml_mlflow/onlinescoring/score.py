import json
import os
from pathlib import Path

import joblib  # installed with scikit-learn
import numpy as np  # installed with scikit-learn
import yaml  # pyyaml
import mlflow  # nothing in the conda file brings mlflow
from azureml.contrib.services.aml_response import AMLResponse  # provided by the inference server
from sklearn.pipeline import Pipeline  # scikit-learn

import features  # onlinescoring/features.py

try:
    import ujson as fast_json  # optional
except ImportError:
    fast_json = json

model: Pipeline | None = None


def init():
    global model
    model_dir = Path(os.environ["AZUREML_MODEL_DIR"]) / "model"
    settings = yaml.safe_load((model_dir / "settings.yaml").read_text())
    model = joblib.load(model_dir / settings["file"])


def run(raw_data):
    rows = np.asarray(features.prepare(fast_json.loads(raw_data)["data"]))
    return AMLResponse(json.dumps(model.predict(rows).tolist()), 200)


if __name__ == "__main__":
    import pytest  # local test runs only

    pytest.main([__file__])
