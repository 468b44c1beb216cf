"""A small bring-your-own-container inference server (FastAPI + uvicorn).

Routes (declared to Azure ML in the environment's inference_config):
  GET  /health/live   liveness: the process is up
  GET  /health/ready  readiness: 200 once the model is loaded, 503 before
  POST /score         {"data": [[sepal_len, sepal_wid, petal_len, petal_wid], ...]}
                      -> {"predictions": ["setosa", ...], "probabilities": [[...], ...]}

The model is model/weights.json (see ../train.py). Azure ML mounts the model
folder under the deployment's model_mount_path. The exact sub-path includes
the model asset's name, so the app searches MODEL_ROOT for weights.json
instead of hard-coding it.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

log = logging.getLogger("iris-byoc")
logging.basicConfig(level=logging.INFO)

MODEL_ROOT = os.getenv("MODEL_ROOT") or os.getenv("AZUREML_MODEL_DIR") or "/var/iris-model"

weights: dict | None = None


class ScoreRequest(BaseModel):
    data: list[list[float]]


def find_weights(root: str) -> str:
    hits = sorted(glob.glob(os.path.join(root, "**", "weights.json"), recursive=True))
    if not hits:
        raise FileNotFoundError(f"no weights.json under {root}")
    return hits[0]


def load_model() -> None:
    global weights
    path = find_weights(MODEL_ROOT)
    with open(path, encoding="utf-8") as fh:
        weights = json.load(fh)
    log.info("loaded %s (%s classes)", path, len(weights["classes"]))


@asynccontextmanager
async def lifespan(_app: FastAPI):
    load_model()
    yield


app = FastAPI(title="iris-byoc", lifespan=lifespan)


def predict_proba(row: list[float]) -> list[float]:
    assert weights is not None
    x = [(v - m) / s for v, m, s in zip(row, weights["mean"], weights["scale"])]
    logits = [sum(c * v for c, v in zip(coef, x)) + b for coef, b in zip(weights["coef"], weights["intercept"])]
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


@app.get("/health/live")
def live() -> dict:
    return {"status": "alive"}


@app.get("/health/ready")
def ready():
    if weights is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    return {"status": "ready"}


@app.post("/score")
def score(req: ScoreRequest) -> dict:
    if weights is None:
        raise HTTPException(status_code=503, detail="model not loaded")
    n = len(weights["feature_names"])
    if not req.data or any(len(row) != n for row in req.data):
        raise HTTPException(status_code=422, detail=f"'data' must be a non-empty list of rows with {n} features")
    probs = [predict_proba(row) for row in req.data]
    classes = weights["classes"]
    return {
        "predictions": [classes[p.index(max(p))] for p in probs],
        "probabilities": [[round(v, 4) for v in p] for p in probs],
    }
