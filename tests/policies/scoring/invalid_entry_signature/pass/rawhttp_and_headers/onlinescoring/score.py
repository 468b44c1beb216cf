import os

import joblib
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

model = None


def init(model_name="model.pkl"):
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", model_name))


@rawhttp
def run(request: AMLRequest, request_headers=None):
    return AMLResponse(str(model.predict([[1.0, 2.0, 3.0, 4.0]]).tolist()), 200)
