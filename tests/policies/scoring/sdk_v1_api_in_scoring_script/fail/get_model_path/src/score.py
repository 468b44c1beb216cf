import joblib
from azureml.core.model import Model


def init():
    global model
    model = joblib.load(Model.get_model_path("iris-model"))


def run(data):
    return model.predict(data).tolist()
