import json
import os

import joblib


def init():
    print("nothing to do")


def run(raw_data):
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))
    return model.predict(json.loads(raw_data)["data"]).tolist()
