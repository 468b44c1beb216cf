"""Rules of the environment area: images, conda and pip pins, the inference server, MLflow models."""
