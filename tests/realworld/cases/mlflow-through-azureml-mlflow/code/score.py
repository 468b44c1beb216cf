import json
import os

import mlflow
import pandas as pd
from azureml.ai.monitoring import Collector

model = None
collector = None


def init():
    global model, collector
    model = mlflow.sklearn.load_model(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model"))
    collector = Collector(name="model_inputs")


def run(raw_data):
    frame = pd.DataFrame(json.loads(raw_data)["data"])
    collector.collect(frame)
    return model.predict(frame).tolist()
