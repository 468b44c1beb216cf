"""Build the MLflow model folder shipped in ./model/.

Fits a StandardScaler + LogisticRegression pipeline on scikit-learn's bundled
wine data set (no download) and saves it with mlflow.sklearn.save_model, which
writes MLmodel (python_function + sklearn flavors, with a signature),
conda.yaml, python_env.yaml, requirements.txt, model.pkl and
input_example.json.

The conda environment is passed in explicitly, fully pinned, instead of
letting MLflow infer it: Azure ML installs exactly these packages when the
container starts, and inferred requirements follow whatever happened to be
installed on the training machine. Run with the same versions:

    python -m venv .venv
    .venv/bin/pip install mlflow==2.17.2 scikit-learn==1.5.2 numpy==1.26.4 scipy==1.13.1 \
        pandas==2.2.3 cloudpickle==3.1.3 joblib==1.4.2 threadpoolctl==3.5.0
    .venv/bin/python train.py
"""

from __future__ import annotations

import os
import shutil

import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "model")

CONDA_ENV = {
    "name": "mlflow-env",
    "channels": ["conda-forge"],
    "dependencies": [
        "python=3.11.7",
        "pip=24.2",
        {
            "pip": [
                "mlflow==2.17.2",
                "cloudpickle==3.1.3",
                "numpy==1.26.4",
                "pandas==2.2.3",
                "scikit-learn==1.5.2",
                "scipy==1.13.1",
                "joblib==1.4.2",
                "threadpoolctl==3.5.0",
                # the platform's no-code scoring script imports azureml.ai.monitoring (AML424)
                "azureml-ai-monitoring==1.0.0",
            ]
        },
    ],
}


# MLflow writes python_env.yaml's build_dependencies from whatever pip and
# setuptools the training venv has, and leaves wheel unpinned. Pin them to
# match conda.yaml so both env descriptions agree.
PYTHON_ENV_YAML = """python: 3.11.7
build_dependencies:
- pip==24.2
- setuptools==75.1.0
- wheel==0.44.0
dependencies:
- -r requirements.txt
"""


def main() -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0))
    model.fit(X, y)
    print(f"training accuracy: {model.score(X, y):.3f}")

    example = X.head(3)
    signature = infer_signature(example, model.predict(example))
    if os.path.exists(MODEL_DIR):
        shutil.rmtree(MODEL_DIR)  # save_model refuses to overwrite
    mlflow.sklearn.save_model(
        model,
        MODEL_DIR,
        conda_env=CONDA_ENV,
        signature=signature,
        input_example=example,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    )
    with open(os.path.join(MODEL_DIR, "python_env.yaml"), "w", encoding="utf-8") as fh:
        fh.write(PYTHON_ENV_YAML)
    print(f"wrote {MODEL_DIR}: {sorted(os.listdir(MODEL_DIR))}")


if __name__ == "__main__":
    main()
