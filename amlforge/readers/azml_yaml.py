"""The az-ml YAML reader: CLI v2 YAML files (and ``amlforge.yaml`` specs) into documents.

A file is parsed with its source map (``specs/source.py``) and classified by its ``$schema`` URL,
else by its keys. ``amlforge.yaml`` specs are returned as documents of kind ``project_spec``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from amlforge.errors import Location, UserInputError
from amlforge.readers.base import LoadOptions, LoadProblem, ReadResult, Reader
from amlforge.specs.project import Document
from amlforge.specs.source import parse_yaml, read_text

SCHEMA_HOSTS = ("azuremlschemas.azureedge.net", "azuremlsdk2.blob.core.windows.net")
_SCHEMA_FAMILIES = {
    "managedonlineendpoint": "endpoint",
    "kubernetesonlineendpoint": "endpoint",
    "onlineendpoint": "endpoint",
    "managedonlinedeployment": "deployment",
    "kubernetesonlinedeployment": "deployment",
    "onlinedeployment": "deployment",
    "environment": "environment",
    "model": "model",
}
_ENDPOINT_KEYS = {"auth_mode", "traffic", "mirror_traffic", "public_network_access"}
_DEPLOYMENT_KEYS = {
    "endpoint_name",
    "instance_type",
    "instance_count",
    "code_configuration",
    "scale_settings",
    "request_settings",
    "liveness_probe",
    "readiness_probe",
    "environment_variables",
    "app_insights_enabled",
    "egress_public_network_access",
    "model_mount_path",
    "resources",
}
_ENVIRONMENT_KEYS = {"image", "build", "conda_file", "inference_config", "os_type"}
_MODEL_TYPES = {"custom_model", "mlflow_model", "triton_model"}
# Words that make a file that fails to parse worth reporting during directory discovery.
_AML_SNIFF = re.compile(r"azureml|endpoint_name|auth_mode|instance_type|scoring_script|conda_file")


#: Document kind of an amlforge project spec (``amlforge.yaml``).
PROJECT_SPEC = "project_spec"
_PROJECT_SPEC_NAMES = ("amlforge.yaml", "amlforge.yml")


def is_project_spec(path: Path, data: dict[str, Any]) -> bool:
    """An amlforge project spec: named amlforge.yaml, or with a ``$schema`` ending in amlforge.schema.json."""
    schema = data.get("$schema")
    return path.name in _PROJECT_SPEC_NAMES or (
        isinstance(schema, str) and schema.rstrip("#").endswith("amlforge.schema.json"))


def classify(data: dict[str, Any]) -> str | None:
    """The document kind of a parsed mapping, by ``$schema`` URL or by its keys."""
    schema = data.get("$schema")
    family = None
    if isinstance(schema, str) and any(host in schema for host in SCHEMA_HOSTS):
        stem = schema.rstrip("/").rsplit("/", 1)[-1].split(".")[0].lower()
        family = _SCHEMA_FAMILIES.get(stem, "unsupported:" + stem)
        if family.startswith("unsupported:"):
            return family
    keys = set(data)
    if family is None:
        if "dependencies" in keys or "channels" in keys and not keys & _ENVIRONMENT_KEYS:
            return None  # a conda file; read when an environment refers to it
        if keys & _ENDPOINT_KEYS or ("compute" in keys and not keys & _DEPLOYMENT_KEYS):
            family = "endpoint"
        elif keys & _DEPLOYMENT_KEYS or ("model" in keys and "environment" in keys):
            family = "deployment"
        elif keys & _ENVIRONMENT_KEYS:
            family = "environment"
        elif "path" in keys and str(data.get("type", "")).lower() in _MODEL_TYPES:
            family = "model"
        else:
            return None
    if family == "endpoint":
        return "kubernetes_endpoint" if "compute" in data else "managed_endpoint"
    if family == "deployment":
        kind = data.get("type")
        is_k8s = isinstance(kind, str) and kind.lower() == "kubernetes"
        return "kubernetes_deployment" if is_k8s else "managed_deployment"
    return family


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_document(path: Path, display: str, explicit: bool, options: LoadOptions,
                   problems: list[LoadProblem]) -> Document | None:
    try:
        in_memory = options.overlay.text(path) if options.overlay is not None else None
        text = read_text(path, display, options.max_file_bytes) if in_memory is None else in_memory
        data, smap = parse_yaml(text, display, options.variables)
    except UserInputError as e:
        if explicit or in_memory is not None or _worth_reporting(path):
            code = _input_problem_code(e.message)
            problems.append(LoadProblem(code, e.location or Location(display), e.message, e.hint, fatal=True))
        return None
    if data is None:
        if explicit:
            problems.append(LoadProblem(
                "AML005", Location(display, 1, 1), "file is empty",
                "write an az-ml endpoint, deployment or environment here, or remove the file", fatal=True))
        return None
    if not isinstance(data, dict):
        if explicit or _AML_SNIFF.search(text):
            problems.append(LoadProblem(
                "AML005", smap.locate(()), f"the document is {_show(data)}, expected a mapping of keys",
                "an az-ml file is a mapping such as 'name: my-endpoint'", fatal=True))
        return None
    if is_project_spec(path, data):
        return Document(path, display, PROJECT_SPEC, data, smap, explicit=explicit)
    from amlforge.specs.instance_type import is_instance_type_document

    if is_instance_type_document(data):  # Kubernetes InstanceType objects of the cluster
        kind = "kubernetes_instancetype" if data["kind"] == "InstanceType" else "kubernetes_instancetypelist"
        return Document(path, display, kind, data, smap, explicit=explicit)
    kind = classify(data)
    if kind is None or kind.startswith("unsupported:"):
        if explicit:
            what = kind.split(":", 1)[1] if kind else "not recognised"
            problems.append(LoadProblem(
                "AML005", smap.locate(("$schema",) if kind else ()),
                f"not an online endpoint, deployment, environment or model file ({what})",
                "add the right $schema line, or pass only the online endpoint files", fatal=True))
        return None
    return Document(path, display, kind, data, smap, explicit=explicit)


def _worth_reporting(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return False
    return b"\x00" not in head and bool(_AML_SNIFF.search(head.decode("utf-8", "replace")))


def _input_problem_code(message: str) -> str:
    if message.startswith("invalid YAML") or "mapping key" in message or "merge key" in message:
        return "AML002"
    if any(s in message for s in ("expands to more than", "values, far more than", "nests", "refers to itself")):
        return "AML003"
    if "larger than" in message:
        return "AML004"
    return "AML001"


class AzmlYamlReader(Reader):
    """az-ml CLI v2 YAML (``.yml``/``.yaml``, any case) and ``amlforge.yaml`` specs."""

    name = "azml-yaml"
    suffixes = (".yml", ".yaml")

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        doc = _read_document(path, display, explicit, options, result.problems)
        if doc is None:
            result.skipped = "not an az-ml online endpoint, deployment, environment or model file"
        else:
            result.documents.append(doc)
        return result


READER = AzmlYamlReader()

__all__ = ["PROJECT_SPEC", "READER", "SCHEMA_HOSTS", "AzmlYamlReader", "classify", "is_project_spec"]
