"""Train the tiny model shipped in ./model/model.pkl.

The model is a scikit-learn Pipeline (StandardScaler + LogisticRegression)
fitted on the iris data set that ships inside scikit-learn, so no download is
needed. Run it with the same versions the deployment's conda file pins:

    python -m venv .venv
    .venv/bin/pip install scikit-learn==1.5.2 numpy==1.26.4 scipy==1.13.1 joblib==1.4.2 threadpoolctl==3.5.0
    .venv/bin/python train.py

Pickles are only guaranteed to load with the scikit-learn version that wrote
them, which is why environment/conda.yaml pins exactly the same versions.
"""

from __future__ import annotations

import os

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "model", "model.pkl")


def main() -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, random_state=0))
    model.fit(X, y)
    print(f"training accuracy: {model.score(X, y):.3f}")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    joblib.dump(model, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
