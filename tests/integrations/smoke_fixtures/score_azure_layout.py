"""Loads the model the way Azure mounts a model registered from a folder named 'model'."""

import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.joblib")
    model = joblib.load(path)  # FAILS-WITHOUT-AZURE-LAYOUT


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    return model.predict(data).tolist()
