import json
import logging
import os

import joblib
import numpy as np

model = None


def init():
    global model
    path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "churn_model.joblib")
    model = joblib.load(path)
    logging.info("model loaded")


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
