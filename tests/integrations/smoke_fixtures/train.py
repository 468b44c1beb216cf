"""Train a tiny scikit-learn model and save it with joblib (run with the smoke python).

Usage: python train.py OUTPUT_FILE
"""

import sys

import joblib
from sklearn.tree import DecisionTreeClassifier

# "both features high" -> 1; a decision tree fits this exactly.
X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.1, 0.2], [0.9, 0.8]]
y = [0, 0, 0, 1, 0, 1]
joblib.dump(DecisionTreeClassifier(random_state=0).fit(X, y), sys.argv[1])
