import json
import os

import torch

model = None


def init():
    global model
    model_dir = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model")
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as fh:
        config = json.load(fh)
    model = torch.load(f"{model_dir}/model.pt", map_location="cpu")
    model.eval()
    print(config)


def run(raw_data):
    with torch.inference_mode():
        return model(torch.tensor(json.loads(raw_data)["data"])).tolist()
