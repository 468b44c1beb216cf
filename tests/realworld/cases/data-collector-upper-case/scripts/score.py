import json
import os

import mlflow
import pandas as pd
from azureml.ai.monitoring import Collector

model = None
inputs_collector = None
outputs_collector = None


def init():
    global model, inputs_collector, outputs_collector
    inputs_collector = Collector(name="model_inputs")
    outputs_collector = Collector(name="model_outputs")
    model = mlflow.pyfunc.load_model(os.getenv("AZUREML_MODEL_DIR"))


def run(raw_data):
    frame = pd.DataFrame(json.loads(raw_data)["data"])
    context = inputs_collector.collect(frame)
    result = pd.DataFrame(model.predict(frame))
    outputs_collector.collect(result, context)
    return result.to_dict(orient="records")
