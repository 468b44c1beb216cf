"""Unit tests of the scoring-script helpers (the rules' fixtures live next to this file)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from amlforge.policies.scoring._imports import (
    candidates,
    closure,
    imports,
    is_stdlib,
    provided,
)
from amlforge.policies.scoring._model_paths import model_paths
from amlforge.policies.scoring._script import top_level_defs


def _paths(src: str) -> list[str]:
    return [u.path.text() for u in model_paths(ast.parse(textwrap.dedent(src)))]


@pytest.mark.parametrize(("src", "expected"), [
    ('os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "model.pkl")', "model/model.pkl"),
    ('os.path.join(os.environ["AZUREML_MODEL_DIR"], "model/model.pkl")', "model/model.pkl"),
    ('os.path.join(os.environ.get("AZUREML_MODEL_DIR", "."), "m.onnx")', "m.onnx"),
    ('Path(os.getenv("AZUREML_MODEL_DIR")) / "model" / "w.pt"', "model/w.pt"),
    ('Path(os.getenv("AZUREML_MODEL_DIR")).joinpath("model", "w.pt")', "model/w.pt"),
    ('f"{os.getenv(\'AZUREML_MODEL_DIR\')}/model/w.pt"', "model/w.pt"),
    ('os.getenv("AZUREML_MODEL_DIR") + "/model.pkl"', "model.pkl"),
    ('str(Path(getenv("AZUREML_MODEL_DIR")).resolve() / "a" / "b.bin")', "a/b.bin"),
    ('os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "..", "other.pkl")', "other.pkl"),
])
def test_model_path_patterns(src: str, expected: str) -> None:
    assert _paths(f"x = {src}\n") == [f"$AZUREML_MODEL_DIR/{expected}"]


def test_model_path_through_variables_and_scopes() -> None:
    src = """
    import os
    BASE = os.getenv("AZUREML_MODEL_DIR")
    def init():
        d = os.path.join(BASE, "model")
        load(os.path.join(d, "weights.bin"))
    """
    assert _paths(src) == ["$AZUREML_MODEL_DIR/model", "$AZUREML_MODEL_DIR/model/weights.bin"]


@pytest.mark.parametrize("src", [
    'p = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model", "*.pkl")',  # glob
    'p = os.path.join(os.getenv("AZUREML_MODEL_DIR"), name)',  # not a literal
    'p = os.path.join(os.getenv("OTHER_DIR"), "model.pkl")',  # another variable
    'd = os.getenv("AZUREML_MODEL_DIR")\nd = "/tmp"\np = os.path.join(d, "x.pkl")',  # reassigned
    'if os.path.exists(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "x.json")):\n    pass',
    'p = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "x.json")\nif os.path.isfile(p):\n    load(p)',
    'try:\n    load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "x.json"))\nexcept FileNotFoundError:\n    pass',
    'os.makedirs(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "cache"))',
    'open(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "log.txt"), "w")',
])
def test_model_paths_left_alone(src: str) -> None:
    assert _paths(src) == []


def test_imports_skip_optional_main_and_type_checking() -> None:
    tree = ast.parse(textwrap.dedent("""
        import numpy as np, os.path
        from . import sibling
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import pandas
        try:
            import ujson
        except ImportError:
            import simplejson
        def run(x):
            from PIL import Image
        from azure.storage import blob
        if __name__ == "__main__":
            import pytest
    """))
    assert [u.module for u in imports(tree)] == ["numpy", "os.path", "typing", "PIL", "azure.storage.blob"]


@pytest.mark.parametrize(("module", "first"), [
    ("sklearn.linear_model", "scikit-learn"), ("cv2", "opencv-python"), ("PIL.Image", "pillow"),
    ("yaml", "pyyaml"), ("google.protobuf.json_format", "protobuf"), ("azure.storage.blob.aio", "azure-storage-blob"),
    ("azureml.core.model", "azureml-core"), ("azure.mgmt.compute", "azure-mgmt-compute"), ("lightgbm", "lightgbm"),
    ("typing_extensions", "typing-extensions"),
])
def test_import_name_to_distribution(module: str, first: str) -> None:
    assert candidates(module)[0] == first


def test_closure_and_provided() -> None:
    server = closure({"azureml-inference-server-http"})
    assert {"flask", "pydantic", "requests", "inference-schema"} <= server
    assert "numpy" not in server  # the server does not bring numpy
    assert provided("azureml.contrib.services.aml_request", server)
    assert provided("numpy", closure({"scikit-learn"}))
    assert provided("torch", closure({"pytorch"}))  # conda name
    assert provided("xgboost", frozenset({"py-xgboost"}))
    assert not provided("lightgbm", closure({"scikit-learn", "azureml-inference-server-http"}))
    assert is_stdlib("json.decoder") and is_stdlib("__future__") and not is_stdlib("numpy")


def test_top_level_defs_count_imports_and_conditional_defs() -> None:
    tree = ast.parse("from x import init\ntry:\n    def run(d):\n        pass\nexcept Exception:\n    pass\n")
    assert {"init", "run"} <= set(top_level_defs(tree))
