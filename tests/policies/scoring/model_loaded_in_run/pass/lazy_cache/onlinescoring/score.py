import json
import os

import joblib

model = None


def init():
    pass


def run(raw_data):
    global model
    if model is None:
        model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))
    return model.predict(json.loads(raw_data)["data"]).tolist()
