import json


def initialise():  # NO-INIT (misspelt: the server looks for init)
    pass


def run(raw_data):
    return json.loads(raw_data)
