"""Build model/weights.json, the model served by the custom container.

The container has no scikit-learn: train.py fits a StandardScaler +
LogisticRegression on sklearn's bundled iris data and exports the fitted
numbers (scaler mean/scale, coefficients, intercepts, class names) to JSON,
and docker/app.py evaluates the same function in plain Python. Run with:

    python -m venv .venv
    .venv/bin/pip install scikit-learn==1.5.2 numpy==1.26.4 scipy==1.13.1 joblib==1.4.2 threadpoolctl==3.5.0
    .venv/bin/python train.py
"""

from __future__ import annotations

import json
import os

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "model", "weights.json")


def main() -> None:
    iris = load_iris()
    scaler = StandardScaler().fit(iris.data)
    clf = LogisticRegression(max_iter=500, random_state=0).fit(scaler.transform(iris.data), iris.target)
    print(f"training accuracy: {clf.score(scaler.transform(iris.data), iris.target):.3f}")
    weights = {
        "format": "multinomial-logistic-regression/v1",
        "feature_names": list(iris.feature_names),
        "classes": [str(c) for c in iris.target_names],
        "mean": scaler.mean_.round(8).tolist(),
        "scale": scaler.scale_.round(8).tolist(),
        "coef": clf.coef_.round(8).tolist(),
        "intercept": clf.intercept_.round(8).tolist(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(weights, fh, indent=2)
        fh.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
