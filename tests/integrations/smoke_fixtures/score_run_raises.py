import json


def init():
    pass


def run(raw_data):
    payload = json.loads(raw_data)
    return payload["inputs"]  # RUN-RAISES (the sample sends "data")
