import os


def load(name):
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], name)
    with open(path, "rb") as fh:  # INIT-RAISES
        return fh.read()


def init():
    global model
    model = load("does-not-exist.pkl")


def run(raw_data):
    return raw_data
