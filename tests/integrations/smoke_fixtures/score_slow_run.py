import json
import time


def init():
    pass


def run(raw_data):
    time.sleep(5)  # SLOW-RUN
    return json.loads(raw_data)
