"""Train the model shipped in ./model/.

A Ridge regression on scikit-learn's bundled diabetes data set (no download).
Writes model/model.pkl and model/metadata.json (feature names and the library
versions the pickle was written with; score.py checks the feature count
against it). Use the versions pinned in environment/conda.yaml:

    python -m venv .venv
    .venv/bin/pip install scikit-learn==1.5.2 numpy==1.26.4 scipy==1.13.1 joblib==1.4.2 threadpoolctl==3.5.0
    .venv/bin/python train.py
"""

from __future__ import annotations

import json
import os

import joblib
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "model")


def main() -> None:
    data = load_diabetes()
    model = Ridge(alpha=0.1).fit(data.data, data.target)
    print(f"training R^2: {model.score(data.data, data.target):.3f}")
    os.makedirs(MODEL_DIR, exist_ok=True)
    joblib.dump(model, os.path.join(MODEL_DIR, "model.pkl"))
    metadata = {
        "task": "regression",
        "target": "disease progression one year after baseline",
        "feature_names": list(data.feature_names),
        "scikit_learn_version": sklearn.__version__,
        "training_rows": int(data.data.shape[0]),
    }
    with open(os.path.join(MODEL_DIR, "metadata.json"), "w", encoding="utf-8") as fh:
        json.dump(metadata, fh, indent=2)
        fh.write("\n")
    print(f"wrote {MODEL_DIR}/model.pkl and metadata.json")


if __name__ == "__main__":
    main()
