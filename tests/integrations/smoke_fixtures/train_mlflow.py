"""Save a tiny scikit-learn model in MLflow format (run with the smoke python, which has mlflow).

Usage: python train_mlflow.py OUTPUT_FOLDER PIP_REQUIREMENT...
The conda file MLflow writes next to MLmodel lists exactly the given pip requirements.
"""

import sys

import mlflow.sklearn
from sklearn.tree import DecisionTreeClassifier

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.1, 0.2], [0.9, 0.8]]
y = [0, 0, 0, 1, 0, 1]
conda_env = {
    "name": "mlflow-env",
    "channels": ["conda-forge"],
    "dependencies": [f"python={sys.version_info.major}.{sys.version_info.minor}", "pip=24.2",
                     {"pip": sys.argv[2:]}],
}
mlflow.sklearn.save_model(DecisionTreeClassifier(random_state=0).fit(X, y), sys.argv[1], conda_env=conda_env)
