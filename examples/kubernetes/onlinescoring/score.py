"""Scoring script for the kubernetes example (diabetes progression, Ridge).

Request:  {"data": [[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6], ...]}
          (the scaled features of sklearn's diabetes data set)
Response: a list of predicted disease-progression scores, one per row.
"""

import json
import logging
import os

import joblib
import numpy as np

model = None
feature_names = None


def init():
    global model, feature_names
    model_dir = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model")
    model = joblib.load(os.path.join(model_dir, "model.pkl"))
    with open(os.path.join(model_dir, "metadata.json"), encoding="utf-8") as fh:
        feature_names = json.load(fh)["feature_names"]
    logging.info("Loaded Ridge model with features %s", feature_names)


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    if data.ndim != 2 or data.shape[1] != len(feature_names):
        raise ValueError(
            f"'data' must be rows of {len(feature_names)} features {feature_names}, got shape {data.shape}"
        )
    return [round(float(v), 2) for v in model.predict(data)]
