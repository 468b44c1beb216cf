import os
import time


def init():
    time.sleep(float(os.environ.get("SLOW_INIT_SECONDS", "60")))  # SLOW-INIT


def run(raw_data):
    return raw_data
