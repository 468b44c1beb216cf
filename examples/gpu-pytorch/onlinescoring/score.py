"""Scoring script for the gpu-pytorch example.

init() runs once per worker: it reads model/config.json, rebuilds the network
and loads the weights onto the GPU (falling back to the CPU when none is
visible, so the same script also runs on a laptop). run() scores
{"data": [[x1, ..., x8], ...]} and returns class probabilities.
"""

import json
import os
import sys

import torch

# The inference server does not put the scoring script's folder on sys.path,
# so make the sibling module net.py importable whatever the working directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from net import TinyClassifier  # noqa: E402

model = None
device = None
config = None


def init():
    global model, device, config
    model_dir = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model")
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as fh:
        config = json.load(fh)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # print() lands in the deployment log (az ml online-deployment get-logs).
    print(f"torch {torch.__version__}, device {device}", flush=True)

    model = TinyClassifier(config["in_features"], config["hidden"], len(config["classes"]))
    # weights_only=True: the file is a plain state_dict, and refusing
    # arbitrary pickled objects is the safe default for model files.
    state_dict = torch.load(os.path.join(model_dir, "model.pt"), map_location=device, weights_only=True)
    model.load_state_dict(state_dict)
    model.to(device).eval()

    # Warm up once so the first real request does not pay for CUDA init.
    with torch.inference_mode():
        model(torch.zeros(1, config["in_features"], device=device))


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    x = torch.tensor(rows, dtype=torch.float32, device=device)
    if x.ndim != 2 or x.shape[1] != config["in_features"]:
        raise ValueError(f"'data' must be rows of {config['in_features']} numbers, got shape {tuple(x.shape)}")
    with torch.inference_mode():
        probs = torch.softmax(model(x), dim=1).cpu()
    classes = config["classes"]
    return [
        {"label": classes[int(p.argmax())], "probabilities": [round(float(v), 4) for v in p]}
        for p in probs
    ]
