"""Entry points live in a helper module; the server only needs the module attributes."""
from model_io import init  # noqa: F401

from predict import predict as run  # noqa: F401
