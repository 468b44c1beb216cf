import lightgbm
import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    return model.predict(data).tolist()
