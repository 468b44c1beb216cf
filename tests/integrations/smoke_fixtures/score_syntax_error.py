import json


def init():
    global model
    model = {"weights": [1, 2, 3]  # SYNTAX-ERROR (the brace is never closed)


def run(raw_data):
    return json.loads(raw_data)
