import json
import os
from pathlib import Path

import joblib

model = None
labels = None


def init():
    global model, labels
    root = Path(os.environ["AZUREML_MODEL_DIR"])
    model = joblib.load(root / "model" / "model.pkl")
    optional = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "labels.json")
    if os.path.exists(optional):
        with open(optional, encoding="utf-8") as fh:
            labels = json.load(fh)


def run(raw_data):
    return model.predict(json.loads(raw_data)["data"]).tolist()
