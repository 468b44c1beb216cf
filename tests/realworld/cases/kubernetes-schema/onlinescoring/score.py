import json
import logging
import os

import joblib
import numpy

model = None


def init():
    global model
    # a single model file is mounted as $AZUREML_MODEL_DIR/<file name>
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "sklearn_regression_model.pkl"))
    logging.info("Init complete")


def run(raw_data):
    data = numpy.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
