"""Scoring script for the sklearn-blue-green example.

The Azure ML inference server (azureml-inference-server-http) imports this
module, calls init() once per worker process and run() once per request.
"""

import json
import logging
import os

import joblib
import numpy as np

model = None


def init():
    """Load the model once per worker.

    AZUREML_MODEL_DIR is the folder the model is mounted at. Because the
    deployment registers the *folder* ./model, its name is kept, so the file
    ends up at $AZUREML_MODEL_DIR/model/model.pkl.
    """
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl")
    model = joblib.load(model_path)
    logging.info("Loaded model from %s", model_path)


def run(raw_data):
    """Score a request of the form {"data": [[f1, f2, f3, f4], ...]}.

    Returns a list of predicted class indices (0 = setosa, 1 = versicolor,
    2 = virginica), one per input row. A malformed request raises, and the
    inference server turns the exception into an HTTP 500 with its message.
    """
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    if data.ndim != 2 or data.shape[1] != 4:
        raise ValueError(f"'data' must be a list of rows with 4 features each, got shape {data.shape}")
    return model.predict(data).tolist()
