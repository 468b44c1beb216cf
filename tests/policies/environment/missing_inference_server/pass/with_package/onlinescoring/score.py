import json
import os

import joblib

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl"))


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return model.predict(data).tolist()
