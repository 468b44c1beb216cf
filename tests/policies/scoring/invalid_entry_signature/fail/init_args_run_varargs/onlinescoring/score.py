import json
import os

import joblib
import numpy as np

model = None


def init(model_dir):
    global model
    model = joblib.load(os.path.join(model_dir, "model", "model.pkl"))


def run(*args):
    data = np.asarray(json.loads(args[0])["data"], dtype=float)
    return model.predict(data).tolist()
