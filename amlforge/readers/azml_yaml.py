"""The az-ml YAML reader: CLI v2 YAML files (and ``amlforge.yaml`` specs) into documents.

A file is parsed with its source map (``specs/source.py``) and classified by its ``$schema`` URL,
else by its keys. ``amlforge.yaml`` specs are returned as documents of kind ``project_spec``.
"""

from __future__ import annotations

import os

from pathlib import Path
from typing import Any

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult
from amlforge.specs.project import Document
from amlforge.specs.source import parse_yaml, read_text

SCHEMA_HOSTS = ("azuremlschemas.azureedge.net", "azuremlsdk2.blob.core.windows.net", "azureml/sdk-2-0/")
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
_AML_SNIFF = LazyPattern(r"azureml|endpoint_name|auth_mode|instance_type|scoring_script|conda_file")


#: Document kind of an amlforge project spec (``amlforge.yaml``).
PROJECT_SPEC = "project_spec"
_PROJECT_SPEC_NAMES = ("amlforge.yaml", "amlforge.yml")


def is_project_spec(path: Path, data: dict[str, Any]) -> bool:
    """An amlforge project spec: named amlforge.yaml, or with a ``$schema`` ending in amlforge.schema.json."""
    schema = data.get("$schema")
    return path.name in _PROJECT_SPEC_NAMES or (
        isinstance(schema, str) and schema.rstrip("#").endswith("amlforge.schema.json"))


#: Keys that only az-ml online documents have: one of them is evidence enough.
_DISTINCT_KEYS = frozenset({
    "endpoint_name", "instance_type", "code_configuration", "scale_settings", "request_settings",
    "app_insights_enabled", "egress_public_network_access", "model_mount_path", "data_collector",
    "auth_mode", "traffic", "mirror_traffic", "conda_file", "inference_config",
})
#: ``type`` values of az-ml documents that are not online endpoints, deployments, environments or models.
_OTHER_AZML_TYPES = {
    "command": "an az-ml command job", "pipeline": "an az-ml pipeline job", "sweep": "an az-ml sweep job",
    "spark": "an az-ml Spark job", "parallel": "an az-ml parallel job", "automl": "an az-ml AutoML job",
    "amlcompute": "an az-ml compute", "computeinstance": "an az-ml compute", "batch": "an az-ml batch deployment",
    "model": "an az-ml batch deployment", "uri_file": "an az-ml data asset", "uri_folder": "an az-ml data asset",
    "mltable": "an az-ml data asset",
}
_BATCH_KEYS = {"mini_batch_size", "output_action", "output_file_name", "retry_settings", "error_threshold",
               "logging_level", "max_concurrency_per_instance"}
_PIPELINE_KEYS = {"trigger", "pr", "stages", "steps", "pool", "extends"}


def other_form_by_name(path: Path) -> str | None:
    """What a file is, judged by its name alone, when that form is surely not az-ml YAML."""
    name = path.name.lower()
    if name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile"):
        return "a Dockerfile"
    if name.endswith(".bicep"):
        return "a Bicep file"
    if name.endswith(".json"):
        return "a JSON file (ARM templates and parameters are not az-ml YAML)"
    if name == "mlmodel":
        return "an MLflow MLmodel file"
    if name == "chart.yaml" or name == "chart.yml":
        return "a Helm chart"
    if name in ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"):
        return "a Docker Compose file"
    if _in_helm_chart(path):
        return "part of a Helm chart"
    parts = [p.lower() for p in path.parts]
    if ".github" in parts and "workflows" in parts:
        return "a GitHub Actions workflow"
    return None


def _in_helm_chart(path: Path) -> bool:
    # os.path on strings: this runs for every YAML file, and pathlib objects cost more than the stats
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(4):  # a chart's values.yaml, templates/x.yaml, templates/sub/x.yaml
        if os.path.isfile(os.path.join(folder, "Chart.yaml")) or os.path.isfile(os.path.join(folder, "Chart.yml")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return False


def other_form(data: dict[str, Any]) -> str | None:
    """What a parsed mapping is, when its own content says it is not an az-ml online document."""
    schema = data.get("$schema")
    if isinstance(schema, str) and schema and not any(host in schema for host in SCHEMA_HOSTS):
        if "deploymenttemplate" in schema.lower() or "deploymentparameters" in schema.lower():
            return "an ARM template"
        return f"a document of another schema ({schema if len(schema) <= 80 else schema[:77] + '...'})"
    if isinstance(schema, str) and schema:
        return None  # an az-ml $schema: recognise() says which
    keys = set(data)
    if "apiVersion" in keys and "kind" in keys:
        return "a Kubernetes manifest"
    if isinstance(data.get("services"), dict) and not keys & _DISTINCT_KEYS:
        return "a Docker Compose file"
    if "jobs" in keys and ("on" in keys or "true" in keys or True in keys):  # YAML 1.1 reads the key `on` as true
        return "a GitHub Actions workflow"
    if keys & _PIPELINE_KEYS and not keys & _DISTINCT_KEYS or isinstance(data.get("jobs"), list):
        return "an Azure Pipelines definition"
    if "flavors" in keys and "path" not in keys and keys & {"artifact_path", "run_id", "model_uuid",
                                                             "utc_time_created", "mlflow_version"}:
        return "an MLflow MLmodel file"
    if ("dependencies" in keys or "channels" in keys) and not keys & _ENVIRONMENT_KEYS:
        return "a conda environment file (read when an environment refers to it)"
    kind = data.get("type")
    if isinstance(kind, str) and kind.lower() in _OTHER_AZML_TYPES and not keys & _DISTINCT_KEYS - {"endpoint_name"}:
        return _OTHER_AZML_TYPES[kind.lower()]
    if keys & _BATCH_KEYS:
        return "an az-ml batch deployment"
    if "jobs" in keys or "command" in keys and "environment" in keys:
        return "an az-ml job"
    return None


def recognise(data: dict[str, Any]) -> tuple[str | None, str]:
    """The document kind of a parsed mapping, or ``None`` and why it is not linted.

    A file is az-ml on real evidence only: an az-ml ``$schema``, a key that only az-ml online
    documents have, or keys that are all keys of the kind its keys suggest. A file that is only
    guessed (``image`` and ``resources`` beside keys no az-ml document has, as in a Helm values
    file) is not linted: schema errors on it would be noise.
    """
    other = other_form(data)
    if other is not None:
        return None, other
    schema = data.get("$schema")
    family = None
    if isinstance(schema, str) and any(host in schema for host in SCHEMA_HOSTS):
        stem = schema.rstrip("/").rsplit("/", 1)[-1].split(".")[0].lower()
        family = _SCHEMA_FAMILIES.get(stem)
        if family is None:
            return None, f"an az-ml {stem} document"
    else:
        keys = set(data)
        if keys & _ENDPOINT_KEYS or ("compute" in keys and not keys & _DEPLOYMENT_KEYS):
            family = "endpoint"
        elif keys & _DEPLOYMENT_KEYS or ("model" in keys and "environment" in keys):
            family = "deployment"
        elif keys & _ENVIRONMENT_KEYS:
            family = "environment"
        elif "path" in keys and str(data.get("type", "")).lower() in _MODEL_TYPES:
            family = "model"
        else:
            return None, "no $schema line and no az-ml keys"
        if family == "environment" and not isinstance(data.get("image", ""), str):
            # an asset pipeline's config (image: {name, context, ...}), not an az-ml environment
            return None, ("only guessed to be an az-ml environment (no $schema line, and its 'image' is not an "
                          "image name); add its $schema line to lint it")
        if not keys & _DISTINCT_KEYS and family != "model":
            stray = sorted(k for k in keys if k not in _known_keys(family, data))
            if stray:
                shown = ", ".join(stray[:4]) + (", ..." if len(stray) > 4 else "")
                return None, (f"only guessed to be an az-ml {family} (no $schema line, and keys no {family} "
                              f"has: {shown}); add its $schema line to lint it")
    return _kind(family, data), ""


def _known_keys(family: str, data: dict[str, Any]) -> set[str]:
    from amlforge.specs.loader import _spec_class, field_keys

    return set(field_keys(_spec_class(_kind(family, data))))


def _kind(family: str, data: dict[str, Any]) -> str:
    if family == "endpoint":
        return "kubernetes_endpoint" if "compute" in data else "managed_endpoint"
    if family == "deployment":
        kind = data.get("type")
        is_k8s = isinstance(kind, str) and kind.lower() == "kubernetes"
        return "kubernetes_deployment" if is_k8s else "managed_deployment"
    return family


def classify(data: dict[str, Any]) -> str | None:
    """The document kind of a parsed mapping (:func:`recognise` without the reason)."""
    return recognise(data)[0]


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
                   problems: list[LoadProblem], package_bases: list[str]) -> tuple[Document | None, str]:
    """The document of one file, or ``None`` and why it holds nothing to lint (and, for a model
    package spec, the environment it builds on in ``package_bases``)."""
    other = other_form_by_name(path) if options.overlay is None or options.overlay.text(path) is None else None
    if other is not None:
        if explicit:
            problems.append(_not_azml(Location(display, 1, 1), other))
        return None, other
    try:
        in_memory = options.overlay.text(path) if options.overlay is not None else None
        text = read_text(path, display, options.max_file_bytes) if in_memory is None else in_memory
        data, smap = parse_yaml(text, display, options.variables)
    except UserInputError as e:
        if explicit or in_memory is not None or _worth_reporting(path):
            code = _input_problem_code(e.message)
            problems.append(LoadProblem(code, e.location or Location(display), e.message, e.hint, fatal=True))
            return None, ""
        return None, f"does not parse as YAML and mentions nothing of az-ml ({e.message})"
    if data is None:
        if explicit:
            problems.append(LoadProblem(
                "AML005", Location(display, 1, 1), "file is empty",
                "write an az-ml endpoint, deployment or environment here, or remove the file", fatal=True))
        return None, "empty"
    if not isinstance(data, dict):
        if explicit or _AML_SNIFF.search(text):
            problems.append(LoadProblem(
                "AML005", smap.locate(()), f"the document is {_show(data)}, expected a mapping of keys",
                "an az-ml file is a mapping such as 'name: my-endpoint'", fatal=True))
        return None, f"the document is {_show(data)}, not a mapping"
    if is_project_spec(path, data):
        return Document(path, display, PROJECT_SPEC, data, smap, explicit=explicit), ""
    from amlforge.specs.kubernetes import is_instance_type_document

    if is_instance_type_document(data):  # Kubernetes InstanceType objects of the cluster
        kind = "kubernetes_instancetype" if data["kind"] == "InstanceType" else "kubernetes_instancetypelist"
        return Document(path, display, kind, data, smap, explicit=explicit), ""
    kind, why = recognise(data)
    if kind is None:
        package_bases.extend(_package_base(data))
        if explicit:
            problems.append(_not_azml(smap.locate(("$schema",) if "$schema" in data else ()), why))
        return None, why
    return Document(path, display, kind, data, smap, explicit=explicit), ""


def _package_base(data: dict[str, Any]) -> list[str]:
    """The environment a model package spec (``$schema: .../ModelVersionPackage.json``, the file of
    ``az ml model package --file``) builds on: ``base_environment_source.resource_id``."""
    schema = data.get("$schema")
    source = data.get("base_environment_source")
    if not isinstance(schema, str) or "modelversionpackage" not in schema.lower() or not isinstance(source, dict):
        return []
    from amlforge.specs.references import parse_asset_ref

    ref = parse_asset_ref(str(source.get("resource_id", "")))
    return [ref.name] if ref is not None and ref.name else []


def _not_azml(where: Location, why: str) -> LoadProblem:
    return LoadProblem(
        "AML005", where, f"not an online endpoint, deployment, environment or model file: {why}",
        "pass only the az-ml online endpoint files (or --skip-unknown to skip the others); "
        "an az-ml file without $schema is recognised by keys such as endpoint_name or instance_type",
        fatal=True)


def _worth_reporting(path: Path) -> bool:
    from amlforge.specs.files import read_user_bytes

    try:  # a regular file only, without blocking (a FIFO named *.yml is skipped, not waited on)
        head = read_user_bytes(path, str(path), 5 * 1024 * 1024)[:65536]
    except UserInputError:
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
        doc, why = _read_document(path, display, explicit, options, result.problems, result.package_bases)
        if doc is None:
            result.skipped = why or "not an az-ml online endpoint, deployment, environment or model file"
        else:
            result.documents.append(doc)
        return result


READER = AzmlYamlReader()

__all__ = ["PROJECT_SPEC", "READER", "SCHEMA_HOSTS", "AzmlYamlReader", "classify", "is_project_spec",
           "other_form", "other_form_by_name", "recognise"]
