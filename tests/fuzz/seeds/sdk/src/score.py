import json


def init():
    global model
    model = None


def run(raw_data):
    return json.loads(raw_data)
