import json
import os

import joblib
import lightgbm  # noqa: F401  # amlforge: ignore[AML505] installed by the image build
import numpy as np

model = None


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl"))


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    return model.predict(data).tolist()
