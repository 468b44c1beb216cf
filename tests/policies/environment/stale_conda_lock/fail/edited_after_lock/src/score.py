import joblib


def init():
    pass


def run(data):
    return data
