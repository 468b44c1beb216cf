import argparse

import mlflow
import pandas as pd
from sklearn.ensemble import RandomForestRegressor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_data")
    parser.add_argument("--model_output")
    args = parser.parse_args()
    frame = pd.read_parquet(args.train_data)
    model = RandomForestRegressor(n_estimators=50).fit(frame.drop(columns=["cost"]), frame["cost"])
    mlflow.sklearn.save_model(model, args.model_output)


if __name__ == "__main__":
    main()
