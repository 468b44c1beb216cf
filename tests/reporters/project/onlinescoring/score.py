"""Scoring script with mistakes for the reporter tests: « non-ASCII », 100% sure, a:b,c."""
import json
import os

import joblib
import lightgbm  # not in the conda file

model = None


def load_model():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))


def run(raw_data):
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))
    return model.predict(json.loads(raw_data)["data"]).tolist()
