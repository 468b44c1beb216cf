"""The amlforge project spec (``amlforge.yaml``): describe an endpoint project once.

One file lists the Azure target, the environments, models and code a project registers, and
its endpoints with their deployments and traffic plan. ``amlforge generate`` turns it into
az-ml YAML, ARM JSON, Bicep and Dockerfiles (see ``docs/generate.md``)::

    $schema: https://raw.githubusercontent.com/amlforge/amlforge/main/amlforge.schema.json
    version: 1
    target: {workspace: my-ws, resource_group: my-rg, region: westeurope}
    environments:
      sklearn-env: {image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1,
                    conda_file: environment/conda.yaml}
    models:
      iris: {path: model}
    code:
      scoring: {path: onlinescoring}
    endpoints:
      iris-ep:
        deployments:
          blue: {model: iris, environment: sklearn-env, code: scoring, scoring_script: score.py,
                 instance_type: Standard_F4s_v2, instance_count: 3}
        traffic: {blue: 100}

The nested shapes that az-ml YAML already has (probes, request settings, scale settings,
Kubernetes resources, build contexts, inference routes) are the az-ml models themselves, so a
spec and the YAML generated from it say the same thing. Values that have no legitimate use in
a generated file (line breaks in names, images or paths; ``{{`` placeholders; backslashes in
paths) are rejected with a located error; everything else is escaped by the generators.

Paths are relative to the spec file, written with ``/``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import Struct
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, WithJsonSchema, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.specs._base import SpecModel, _scalar_to_str, enum_field
from amlforge.specs.environment import BuildContext, InferenceConfig
from amlforge.specs.probes import ProbeSettings
from amlforge.specs.references import parse_asset_ref
from amlforge.specs.request_settings import RequestSettings
from amlforge.specs.resources import ResourceRequirements
from amlforge.specs.scale_settings import DefaultScaleSettings, ScaleSettings, TargetUtilizationScaleSettings

if TYPE_CHECKING:
    from amlforge.specs.loader import LoadProblem
    from amlforge.specs.project import Document
    from amlforge.specs.source import SourceMap

#: File names recognised as a project spec.
SPEC_FILE_NAMES = ("amlforge.yaml", "amlforge.yml")
#: The JSON Schema of the spec, published at the repository root.
SCHEMA_FILE_NAME = "amlforge.schema.json"
#: ``$schema`` written into new specs (``amlforge init``, ``amlforge import``).
SCHEMA_URL = "https://raw.githubusercontent.com/amlforge/amlforge/main/amlforge.schema.json"
#: The Microsoft.MachineLearningServices api-version used unless ``target.api_version`` says otherwise.
DEFAULT_API_VERSION = "2026-05-01"
#: The first api-version whose online deployments have ``startupProbe``.
STARTUP_PROBE_API_VERSION = "2025-12-01"

# ---------------------------------------------------------------------------------------------
# Value types. Each raises a PydanticCustomError of type ``spec_*`` whose context carries a hint.

_LINE_BREAK = LazyPattern(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_TEXT_CONTROL = LazyPattern(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def spec_error(error_type: str, message: str, hint: str, **context: Any) -> PydanticCustomError:
    """A spec validation error. ``message`` may use ``{name}`` fields from ``context`` only;
    user values always travel in the context, never in the template. ``at_key=True`` in the
    context points the error at the mapping key rather than its value."""
    return PydanticCustomError("spec_" + error_type, message, {"hint": hint, **context})


def _char_name(char: str) -> str:
    return {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(char, f"control character U+{ord(char):04X}")


#: What az-ml YAML linting reads as a ``{{NAME}}`` placeholder (as amlforge.specs.source does).
_PLACEHOLDER = LazyPattern(r"\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\}")


def _no_placeholder(value: str) -> None:
    m = _PLACEHOLDER.search(value)
    if m:
        raise spec_error(
            "placeholder", "'{value}' contains {placeholder}, which amlforge reads as a placeholder in az-ml YAML",
            "write the value itself: amlforge.yaml has no placeholders (secret references such as "
            "${{{{azureml://connections/...}}}} are fine)", value=value, placeholder=m.group())


def _single_line(value: str) -> str:
    m = _LINE_BREAK.search(value)
    if m:
        raise spec_error(
            "line_break", "the value contains {what}; this field is one line in every generated file",
            "remove the line break or control character", what=_char_name(m.group()))
    _no_placeholder(value)
    return value


def _text(value: str) -> str:
    m = _TEXT_CONTROL.search(value)
    if m:
        raise spec_error("control_character", "the text contains {what}", "remove it; line breaks and tabs are fine here",
                         what=_char_name(m.group()))
    _no_placeholder(value)
    return value


def _to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


#: One line of text (no line breaks or control characters).
Line = Annotated[str, AfterValidator(_single_line)]
#: Free text (descriptions): line breaks and tabs allowed, other control characters not.
Text = Annotated[str, AfterValidator(_text)]


def _pattern_type(regex: str, what: str, rule: str, hint: str, *, min_len: int = 1, max_len: int = 255,
                  extra: Callable[[str], None] | None = None, coerce: bool = False,
                  description: str = "") -> Any:
    pattern = re.compile(regex)

    def check(value: str) -> str:
        _single_line(value)
        if not (min_len <= len(value) <= max_len) or not pattern.fullmatch(value):
            raise spec_error("invalid_name", "{what} '{value}' is not valid: {rule}", hint, what=what, value=value, rule=rule)
        if extra is not None:
            extra(value)
        return value

    schema: dict[str, Any] = {"type": "string", "pattern": regex, "minLength": min_len, "maxLength": max_len}
    if description:
        schema["description"] = description
    if coerce:
        schema = {"anyOf": [schema, {"type": "integer"}, {"type": "number"}]}
    validators: list[Any] = [BeforeValidator(_to_str)] if coerce else []
    annotated = Annotated[(str, *validators, AfterValidator(check), WithJsonSchema(schema))]
    _KEY_SCHEMAS[id(annotated)] = {k: v for k, v in schema.items() if k != "description"}
    return annotated


_KEY_SCHEMAS: dict[int, dict[str, Any]] = {}


def names(key_type: Any) -> dict[str, Any]:
    """``json_schema_extra`` that documents the keys of a mapping field (``propertyNames``)."""
    return {"propertyNames": _KEY_SCHEMAS[id(key_type)]}


_ENDPOINT_RE = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
_NAME_RULE = "3-32 characters: a letter first, then letters, digits and dashes, ending with a letter or digit"

EndpointName = _pattern_type(_ENDPOINT_RE, "endpoint name", _NAME_RULE, "rename it, e.g. 'my-endpoint'",
                             min_len=3, max_len=32)
DeploymentName = _pattern_type(_ENDPOINT_RE, "deployment name", _NAME_RULE, "rename it, e.g. 'blue'",
                               min_len=3, max_len=32)


def _not_azureml_prefix(value: str) -> None:
    if value.lower().startswith("azureml"):
        raise spec_error("invalid_name", "environment name '{value}' starts with 'AzureML', which Azure reserves "
                         "for curated environments", "rename it", value=value)


_ASSET_RE = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"
_ASSET_RULE = "letters, digits, '-' and '_', a letter or digit first, up to 255 characters"
AssetName = _pattern_type(_ASSET_RE, "asset name", _ASSET_RULE, "rename it, e.g. 'sklearn-env'")
EnvironmentName = _pattern_type(_ASSET_RE, "environment name", _ASSET_RULE, "rename it, e.g. 'sklearn-env'",
                                extra=_not_azureml_prefix)
Version = _pattern_type(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$", "version", "letters, digits, '.', '-' and '_', up to 50 characters",
                        "write a version such as \"1\" or \"2024.06.1\"", max_len=50, coerce=True,
                        description="Asset version; numbers are kept as text.")
WorkspaceName = _pattern_type(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$", "workspace name",
                              "3-33 characters: letters, digits, '-' and '_', a letter or digit first",
                              "use the workspace name as Azure shows it", min_len=3, max_len=33)
ResourceGroupName = _pattern_type(r"^[-A-Za-z0-9._()]*[-A-Za-z0-9_()]$", "resource group name",
                                  "1-90 characters: letters, digits, '-', '_', '.', '(' and ')', not ending with '.'",
                                  "use the resource group name as Azure shows it", max_len=90)
Region = _pattern_type(r"^[a-z][a-z0-9]*$", "region", "the programmatic region name in lower case, e.g. westeurope",
                       "write the name 'az account list-locations' shows, e.g. westeurope or eastus2", min_len=2, max_len=40)
SubscriptionId = _pattern_type(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                               "subscription id", "a GUID such as 00000000-0000-0000-0000-000000000000",
                               "copy it from 'az account show --query id'", min_len=36, max_len=36)
ApiVersion = _pattern_type(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$", "api-version",
                           "a date such as 2026-05-01 (optionally -preview)", "write e.g. 2026-05-01", max_len=20)
ComputeName = _pattern_type(r"^[a-zA-Z][a-zA-Z0-9-]*$", "compute name",
                            "2-32 characters: a letter first, then letters, digits and dashes",
                            "write the name of the attached Kubernetes compute, without 'azureml:'", min_len=2, max_len=32)
EnvVarName = _pattern_type(r"^[A-Za-z_][A-Za-z0-9_]*$", "environment variable name",
                           "letters, digits and '_', not starting with a digit", "rename it, e.g. WORKER_COUNT", max_len=256)
TagName = _pattern_type(r"^[^<>%&\\?/\x00-\x1f\x7f]+$", "tag name", "1-512 characters without < > % & \\ ? /",
                        "rename the tag", max_len=512)
InstanceType = _pattern_type(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", "instance type", "a VM size such as Standard_DS3_v2 "
                             "or a Kubernetes instance type name", "write e.g. Standard_F4s_v2", max_len=128)
_IMAGE_RE = (r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
             r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")
Image = _pattern_type(_IMAGE_RE, "image", "a Docker image reference such as mcr.microsoft.com/azureml/<name>:<tag>",
                      "write registry/repository:tag, e.g. mcr.microsoft.com/azureml/minimal-py312-inference:20260715.v1",
                      max_len=512)
_IDENTITY_RE = (r"^/subscriptions/[^/\s]+/resource[gG]roups/[^/\s]+/providers/Microsoft\.ManagedIdentity/"
                r"userAssignedIdentities/[^/\s]+$")
IdentityId = _pattern_type(_IDENTITY_RE, "identity", "the ARM id of a user-assigned managed identity",
                           "write /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/"
                           "userAssignedIdentities/<name>", max_len=1024)
#: A mapping value az-ml YAML sends as a string (numbers and booleans are converted, as az ml does).
ScalarLine = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_single_line)]
TagValue = Annotated[ScalarLine, Field(max_length=256)]
Tags = dict[TagName, TagValue]

_URI_SCHEMES = ("azureml://", "https://", "http://", "wasbs://", "abfss://")


def is_uri(value: str) -> bool:
    """Whether a path value is a URI (datastore, blob, web) rather than a local path."""
    return value.lower().startswith(_URI_SCHEMES)


def normalise_path(value: str) -> str:
    """``./model/`` -> ``model``: the one spelling a relative path is stored in."""
    return posixpath.normpath(value)


def _relative_path(value: str, *, what: str = "path", allow_parent: bool = True) -> str:
    _single_line(value)
    if not value.strip():
        raise spec_error("invalid_path", "the {what} is empty", "write a path relative to amlforge.yaml", what=what)
    if "\\" in value:
        raise spec_error("invalid_path", "{what} '{value}' contains a backslash", "write paths with '/' (they are "
                         "relative to amlforge.yaml on every operating system)", what=what, value=value)
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value) or value.startswith("~"):
        raise spec_error("invalid_path", "{what} '{value}' is absolute", "write it relative to amlforge.yaml, "
                         "so the project works on any machine", what=what, value=value)
    if is_uri(value) or "://" in value:
        raise spec_error("invalid_path", "{what} '{value}' is a URI, expected a local path", "write a path relative "
                         "to amlforge.yaml", what=what, value=value)
    normal = normalise_path(value)
    if not allow_parent and (normal == ".." or normal.startswith("../")):
        raise spec_error("invalid_path", "{what} '{value}' leaves its folder", "write a path inside the folder",
                         what=what, value=value)
    return normal


def _local_path(value: str) -> str:
    return _relative_path(value)


def _path_or_uri(value: str) -> str:
    if is_uri(value):
        _single_line(value)
        if any(c in value for c in " \"'<>\\^`{|}"):
            raise spec_error("invalid_path", "URI '{value}' contains characters that must be percent-encoded",
                             "percent-encode them (%20 for a space)", value=value)
        return value
    return _relative_path(value)


def _scoring_script(value: str) -> str:
    return _relative_path(value, what="scoring script", allow_parent=False)


def _mount_path(value: str) -> str:
    _single_line(value)
    if not value.startswith("/") or "\\" in value:
        raise spec_error("invalid_path", "model_mount_path '{value}' is not an absolute Linux path",
                         "write an absolute path such as /var/model", value=value)
    return value


_PATH_SCHEMA = {"type": "string", "minLength": 1, "description": "Relative to amlforge.yaml, written with '/'."}
LocalPath = Annotated[str, AfterValidator(_local_path), WithJsonSchema(_PATH_SCHEMA)]
PathOrUri = Annotated[str, AfterValidator(_path_or_uri), WithJsonSchema(
    {"type": "string", "minLength": 1, "description": "Relative to amlforge.yaml, or an azureml://datastores/... or https:// URI."})]
ScoringScript = Annotated[str, AfterValidator(_scoring_script), WithJsonSchema(
    {"type": "string", "minLength": 1, "description": "Relative to the code folder."})]
MountPath = Annotated[str, AfterValidator(_mount_path), WithJsonSchema({"type": "string", "pattern": "^/"})]


def _reference(kind: str) -> Callable[[str], str]:
    plural = kind + "s" if kind != "code" else "codes"

    def check(value: str) -> str:
        _single_line(value)
        ref = parse_asset_ref(value)
        hint = (f"write azureml:<name>:<version>, or azureml://registries/<registry>/{plural}/<name>/versions/<version>")
        if ref is None:
            raise spec_error("invalid_reference", "'{value}' is not a registered {kind} reference", hint,
                             value=value, kind=kind)
        if ref.version is None:
            raise spec_error("invalid_reference", "'{value}' does not name a version", "give an explicit version "
                             "(labels such as @latest cannot be expressed in ARM or Bicep): " + hint, value=value)
        if ref.form == "registry" and not value.startswith(f"azureml://registries/{ref.registry}/{plural}/"):
            raise spec_error("invalid_reference", "'{value}' is not a registered {kind} reference", hint,
                             value=value, kind=kind)
        if ref.form == "arm" and f"/{plural}/" not in value.lower():
            raise spec_error("invalid_reference", "'{value}' is not a registered {kind} reference", hint,
                             value=value, kind=kind)
        if any(c in value for c in " \"'\\"):
            raise spec_error("invalid_reference", "'{value}' contains spaces, quotes or backslashes", hint, value=value)
        return value

    return check


ModelReference = Annotated[str, AfterValidator(_reference("model"))]
EnvironmentReference = Annotated[str, AfterValidator(_reference("environment"))]
CodeReference = Annotated[str, AfterValidator(_reference("code"))]

# ---------------------------------------------------------------------------------------------
# Models


class Target(SpecModel):
    """Where the project is deployed."""

    workspace: WorkspaceName = Field(description="Azure Machine Learning workspace name.")
    resource_group: ResourceGroupName = Field(description="Resource group of the workspace.")
    region: Region = Field(description="Azure region of the workspace (programmatic name, e.g. westeurope).")
    subscription: SubscriptionId | None = Field(None, description="Subscription id; the current az account when omitted.")
    profile: Annotated[Literal["dev", "test", "prod"], enum_field("dev", "test", "prod")] = Field(
        "dev", description="Lint profile the generated files are checked with (prod adds high-availability rules).")
    api_version: ApiVersion = Field(DEFAULT_API_VERSION,
                                    description="Microsoft.MachineLearningServices api-version of ARM and Bicep resources.")


class EnvironmentDef(SpecModel):
    """An environment the project registers (or a registered one it refers to).

    Exactly one of ``image`` (optionally with ``conda_file``), ``build`` (your own Docker build
    context, with ``inference_config``) or ``reference``. With ``dockerfile: true``, amlforge
    writes a Dockerfile that bakes ``conda_file`` into ``image`` at build time, and the
    environment is built from it.
    """

    version: Version = Field("1", description="Version registered; bump it when the environment changes.")
    description: Text | None = Field(None, description="Free text.")
    tags: Tags | None = Field(None, description="Asset tags.", json_schema_extra=names(TagName))
    image: Image | None = Field(None, description="Base Docker image, pinned by a dated tag or digest.")
    conda_file: LocalPath | None = Field(
        None, description="Conda environment file, relative to amlforge.yaml; its pinned lock (conda.lock.yaml) is "
                          "used when 'amlforge lock' wrote one. Needs image.")
    dockerfile: bool = Field(False, description="Generate a Dockerfile that creates the conda environment at build "
                                                "time and runs the inference server (needs image and conda_file).")
    build: BuildContext | None = Field(None, description="Your own Docker build context (path relative to amlforge.yaml).")
    inference_config: InferenceConfig | None = Field(None, description="Routes of a custom container (with build).")
    os_type: Annotated[Literal["linux", "windows"], enum_field("linux", "windows")] = Field(
        "linux", description="Operating system of the image.")
    reference: EnvironmentReference | None = Field(
        None, description="A registered environment instead: azureml:<name>:<version> or azureml://registries/...")

    @property
    def kind(self) -> str:
        """``reference``, ``dockerfile``, ``build`` or ``image``."""
        if self.reference is not None:
            return "reference"
        if self.dockerfile:
            return "dockerfile"
        return "build" if self.build is not None else "image"


class ModelDef(SpecModel):
    """A model the project registers (local path or storage URI), or a registered one it refers to."""

    version: Version = Field("1", description="Version registered; bump it when the model changes.")
    type: Annotated[Literal["custom_model", "mlflow_model", "triton_model"],
                    enum_field("custom_model", "mlflow_model", "triton_model")] = Field(
        "custom_model", description="custom_model, mlflow_model or triton_model.")
    description: Text | None = Field(None, description="Free text.")
    tags: Tags | None = Field(None, description="Asset tags.", json_schema_extra=names(TagName))
    path: PathOrUri | None = Field(None, description="Local file or folder (relative to amlforge.yaml), or a "
                                                     "azureml://datastores/... or https:// URI.")
    reference: ModelReference | None = Field(
        None, description="A registered model instead: azureml:<name>:<version> or azureml://registries/...")


class CodeDef(SpecModel):
    """Scoring code the project registers (a local folder), or registered code it refers to."""

    version: Version = Field("1", description="Version registered in ARM and Bicep; bump it when the code changes.")
    description: Text | None = Field(None, description="Free text.")
    path: LocalPath | None = Field(None, description="Folder with the scoring script, relative to amlforge.yaml.")
    reference: CodeReference | None = Field(None, description="Registered code instead: azureml:<name>:<version>.")


class UserIdentity(SpecModel):
    """A user-assigned managed identity."""

    resource_id: IdentityId = Field(description="ARM id of the identity.")


class EndpointIdentity(SpecModel):
    """The endpoint's managed identity."""

    type: Annotated[Literal["system_assigned", "user_assigned", "none"],
                    enum_field("system_assigned", "user_assigned", "none")] = Field(
        "system_assigned", description="system_assigned (default), user_assigned or none.")
    user_assigned_identities: list[UserIdentity] | None = Field(
        None, description="Exactly one identity with user_assigned; it needs AcrPull and Storage Blob Data Reader.")


class DeploymentDef(SpecModel):
    """One deployment of an endpoint. Field names and nested shapes are those of az-ml YAML."""

    description: Text | None = Field(None, description="Free text.")
    tags: Tags | None = Field(None, description="Resource tags.", json_schema_extra=names(TagName))
    model: AssetName | None = Field(None, description="Key of an entry in models; optional for custom containers.")
    model_mount_path: MountPath | None = Field(None, description="Absolute path the model is mounted at (custom containers).")
    environment: AssetName | None = Field(None, description="Key of an entry in environments; optional for MLflow no-code.")
    code: AssetName | None = Field(None, description="Key of an entry in code; with scoring_script.")
    scoring_script: ScoringScript | None = Field(None, description="Entry script, relative to the code folder.")
    instance_type: InstanceType | None = Field(
        None, description="VM size (managed, required) or Kubernetes instance type (optional).")
    instance_count: int | None = Field(None, description="Instances (1-50; at least 3 in production).")
    app_insights_enabled: bool = Field(False, description="Send logs and metrics to Application Insights.")
    egress_public_network_access: Annotated[Literal["enabled", "disabled"], enum_field("enabled", "disabled")] | None = Field(
        None, description="Managed only: legacy network isolation; prefer a workspace managed VNet.")
    environment_variables: dict[EnvVarName, ScalarLine] | None = Field(
        None, description="Set in the container; WORKER_COUNT should match max_concurrent_requests_per_instance.",
        json_schema_extra=names(EnvVarName))
    request_settings: RequestSettings | None = Field(None, description="Per-request limits (as az-ml YAML).")
    liveness_probe: ProbeSettings | None = Field(None, description="Liveness probe (as az-ml YAML).")
    readiness_probe: ProbeSettings | None = Field(None, description="Readiness probe (as az-ml YAML).")
    startup_probe: ProbeSettings | None = Field(
        None, description="Startup probe (as the other probes); needs target.api_version 2025-12-01 or later. "
        "Written to ARM and Bicep only: az-ml YAML has no startup_probe.")
    scale_settings: ScaleSettings | None = Field(
        None, description="default, or target_utilization (Kubernetes only), as az-ml YAML.")
    resources: ResourceRequirements | None = Field(None, description="Kubernetes only: container requests and limits.")


class EndpointDef(SpecModel):
    """An online endpoint, its deployments and its traffic plan."""

    kind: Annotated[Literal["managed", "kubernetes"], enum_field("managed", "kubernetes")] = Field(
        "managed", description="managed (Azure-hosted VMs) or kubernetes (an attached cluster, with compute).")
    compute: ComputeName | None = Field(None, description="Kubernetes only: the attached compute's name.")
    description: Text | None = Field(None, description="Free text.")
    tags: Tags | None = Field(None, description="Resource tags.", json_schema_extra=names(TagName))
    auth_mode: Annotated[Literal["key", "aml_token", "aad_token"], enum_field("key", "aml_token", "aad_token")] = Field(
        "key", description="key (default), aml_token or aad_token (managed only).")
    identity: EndpointIdentity | None = Field(None, description="Managed identity; system-assigned when omitted.")
    public_network_access: Annotated[Literal["enabled", "disabled"], enum_field("enabled", "disabled")] | None = Field(
        None, description="Managed only: disabled allows inbound only through the workspace private endpoint.")
    deployments: dict[DeploymentName, DeploymentDef] = Field(
        description="Deployments by name.", min_length=1, json_schema_extra=names(DeploymentName))
    traffic: dict[DeploymentName, int] | None = Field(
        None, description="Live traffic: deployment -> percent, summing to 100 (or all 0). Applied after the "
                          "deployments exist.", json_schema_extra=names(DeploymentName))
    mirror_traffic: dict[DeploymentName, int] | None = Field(
        None, description="Managed only: one deployment -> percent (at most 50) of live traffic copied to it.",
        json_schema_extra=names(DeploymentName))


class ProjectSpec(SpecModel):
    """An amlforge project: ``amlforge.yaml``."""

    schema_: str | None = Field(None, alias="$schema", description="URL or path of amlforge.schema.json, for editors.")
    version: Literal[1] = Field(1, description="Format version of this file.")
    target: Target = Field(description="Where the project is deployed.")
    environments: dict[EnvironmentName, EnvironmentDef] = Field(
        default_factory=dict, description="Environments by asset name.", json_schema_extra=names(EnvironmentName))
    models: dict[AssetName, ModelDef] = Field(default_factory=dict, description="Models by asset name.",
                                              json_schema_extra=names(AssetName))
    code: dict[AssetName, CodeDef] = Field(default_factory=dict, description="Scoring code by asset name.",
                                           json_schema_extra=names(AssetName))
    endpoints: dict[EndpointName, EndpointDef] = Field(description="Online endpoints by name.", min_length=1,
                                                       json_schema_extra=names(EndpointName))

    @model_validator(mode="after")
    def _consistent(self) -> ProjectSpec:
        problems = list(consistency_problems(self))
        if problems:
            raise ValidationError.from_exception_data("ProjectSpec", [
                InitErrorDetails(type=error, loc=path, input=None) for path, error in problems])
        return self

    def sorted_endpoints(self) -> list[tuple[str, EndpointDef]]:
        """Endpoints in name order."""
        return sorted(self.endpoints.items())


# ---------------------------------------------------------------------------------------------
# Cross-field checks (located: each problem carries its path in the file)

Problem = tuple[tuple[str | int, ...], PydanticCustomError]


def _set(model: SpecModel, name: str) -> bool:
    return name in model.model_fields_set


def consistency_problems(spec: ProjectSpec) -> Iterator[Problem]:
    """What a spec must satisfy beyond its field types: references resolve, kinds match, traffic adds up."""
    yield from _asset_problems(spec)
    names: dict[str, str] = {}
    for ep_name, ep in spec.sorted_endpoints():
        at: tuple[str | int, ...] = ("endpoints", ep_name)
        lowered = ep_name.lower()
        if lowered in names:
            yield at, spec_error("duplicate", "endpoint '{value}' differs from '{other}' only in case",
                                 "Azure names are case-insensitive: rename one", value=ep_name, other=names[lowered])
        names[lowered] = ep_name
        yield from _endpoint_problems(spec, ep_name, ep, at)


def _asset_problems(spec: ProjectSpec) -> Iterator[Problem]:
    for name, env in sorted(spec.environments.items()):
        at: tuple[str | int, ...] = ("environments", name)
        sources = [k for k in ("image", "build", "reference") if getattr(env, k) is not None]
        if len(sources) != 1:
            yield at, spec_error("environment_source",
                                 "an environment needs exactly one of image, build or reference (got {got})",
                                 "an environment is a base image (optionally with conda_file), your own Docker build "
                                 "context, or a registered environment", got=", ".join(sources) or "none")
            continue
        if env.reference is not None:
            extra = [k for k in ("version", "description", "tags", "conda_file", "dockerfile", "inference_config",
                                 "os_type") if _set(env, k)]
            if extra:
                yield at + (extra[0],), spec_error("reference_extra", "{field} does not apply to a registered "
                                                   "environment reference", "remove it (the reference names the version)",
                                                   field=extra[0], at_key=True)
        if env.conda_file is not None and env.image is None:
            yield at + ("conda_file",), spec_error("environment_source", "conda_file needs image",
                                                   "the conda environment is built on top of a base image")
        if env.dockerfile:
            if env.image is None or env.conda_file is None:
                yield at + ("dockerfile",), spec_error("dockerfile", "dockerfile: true needs image and conda_file",
                                                       "give the base image and the conda file the image is built from")
            if env.os_type != "linux":
                yield at + ("os_type",), spec_error("dockerfile", "generated Dockerfiles are for Linux images",
                                                    "remove os_type or dockerfile")
            if env.inference_config is not None:
                yield at + ("inference_config",), spec_error(
                    "dockerfile", "inference_config is set by amlforge for a generated Dockerfile",
                    "remove it: the image serves the inference server's routes on port 5001")
            if env.image is not None and not _pinned_image(env.image):
                yield at + ("image",), spec_error(
                    "dockerfile", "the base image '{value}' is not pinned by a tag or digest",
                    "use a dated tag such as :20260715.v1 (not :latest), so rebuilds are reproducible", value=env.image)
        if env.inference_config is not None and env.build is None:
            yield at + ("inference_config",), spec_error("environment_source", "inference_config needs build",
                                                         "routes describe your own container: give build")
        if env.build is not None:
            try:
                _relative_path(env.build.path, what="build path")
                _relative_path(env.build.dockerfile_path, what="dockerfile_path", allow_parent=False)
            except PydanticCustomError as e:
                yield at + ("build",), e
        if env.inference_config is not None:
            for route_name in ("liveness_route", "readiness_route", "scoring_route"):
                route = getattr(env.inference_config, route_name)
                if not route.path.startswith("/") or _LINE_BREAK.search(route.path) or _PLACEHOLDER.search(route.path):
                    yield at + ("inference_config", route_name, "path"), spec_error(
                        "invalid_route", "route path '{value}' is not an absolute URL path",
                        "write a path such as /score", value=route.path)
                if not 1 <= route.port <= 65535:
                    yield at + ("inference_config", route_name, "port"), spec_error(
                        "invalid_route", "port {value} is not between 1 and 65535", "write a port number", value=route.port)
    for kind, table in (("model", spec.models), ("code", spec.code)):
        for name, asset in sorted(table.items()):
            at = ("models" if kind == "model" else "code", name)
            if (asset.path is None) == (asset.reference is None):
                yield at, spec_error("asset_source", "a {kind} needs exactly one of path or reference",
                                     "give a local path, or a registered reference azureml:<name>:<version>", kind=kind)
            elif asset.reference is not None:
                extra = [k for k in ("version", "type", "description", "tags") if k in type(asset).model_fields and _set(asset, k)]
                if extra:
                    yield at + (extra[0],), spec_error("reference_extra", "{field} does not apply to a registered "
                                                       "{kind} reference", "remove it (the reference names the version)",
                                                       field=extra[0], kind=kind, at_key=True)
            if kind == "code" and asset.path is not None and is_uri(asset.path):
                yield at + ("path",), spec_error("invalid_path", "code is a local folder", "write a local path")


def _pinned_image(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1].lower() != "latest"


def _endpoint_problems(spec: ProjectSpec, ep_name: str, ep: EndpointDef, at: tuple[str | int, ...]) -> Iterator[Problem]:
    k8s = ep.kind == "kubernetes"
    if k8s and ep.compute is None:
        yield at + ("kind",), spec_error("kind", "a Kubernetes endpoint needs compute",
                                         "add 'compute: <name of the attached Kubernetes compute>'")
    if not k8s and ep.compute is not None:
        yield at + ("compute",), spec_error("kind", "compute applies to Kubernetes endpoints only",
                                            "remove it, or add 'kind: kubernetes'")
    if k8s and ep.auth_mode == "aad_token":
        yield at + ("auth_mode",), spec_error("kind", "Kubernetes endpoints support key and aml_token only",
                                              "use key or aml_token")
    if k8s and ep.public_network_access is not None:
        yield at + ("public_network_access",), spec_error("kind", "public_network_access applies to managed endpoints only",
                                                          "remove it")
    if k8s and ep.mirror_traffic:
        yield at + ("mirror_traffic",), spec_error("kind", "mirror_traffic is not supported on Kubernetes endpoints",
                                                   "remove it")
    identity = ep.identity
    if identity is not None:
        count = len(identity.user_assigned_identities or [])
        if identity.type == "user_assigned" and count != 1:
            yield at + ("identity",), spec_error("identity", "user_assigned needs exactly one identity in "
                                                 "user_assigned_identities (got {count})",
                                                 "list one identity: user_assigned_identities: [{resource_id: ...}]",
                                                 count=count)
        if identity.type != "user_assigned" and count:
            yield at + ("identity", "user_assigned_identities"), spec_error(
                "identity", "user_assigned_identities needs type: user_assigned", "set type: user_assigned")
    lowered: dict[str, str] = {}
    for dep_name, dep in sorted(ep.deployments.items()):
        dat = at + ("deployments", dep_name)
        if dep_name.lower() in lowered:
            yield dat, spec_error("duplicate", "deployment '{value}' differs from '{other}' only in case",
                                  "Azure names are case-insensitive: rename one", value=dep_name,
                                  other=lowered[dep_name.lower()])
        lowered[dep_name.lower()] = dep_name
        if k8s and len(ep_name) + len(dep_name) > 62:
            yield dat, spec_error("invalid_name", "endpoint and deployment names together are {n} characters; "
                                  "Kubernetes allows at most 62", "shorten one of them", n=len(ep_name) + len(dep_name))
        yield from _deployment_problems(spec, ep, dep, dat)
    known = {d.lower() for d in ep.deployments}
    for field in ("traffic", "mirror_traffic"):
        plan: dict[str, int] | None = getattr(ep, field)
        for dep_name, percent in sorted((plan or {}).items()):
            if dep_name.lower() not in known:
                yield at + (field, dep_name), spec_error(
                    "traffic", "'{value}' is not a deployment of this endpoint",
                    "name one of: " + ", ".join(sorted(ep.deployments)), value=dep_name, at_key=True)
            limit = 50 if field == "mirror_traffic" else 100
            if not 0 <= percent <= limit:
                yield at + (field, dep_name), spec_error(
                    "traffic", "{percent} is not a percentage between 0 and {limit}", "write a whole number "
                    "between 0 and {limit}".replace("{limit}", str(limit)), percent=percent, limit=limit)
    if ep.traffic:
        total = sum(ep.traffic.values())
        if total not in (0, 100):
            yield at + ("traffic",), spec_error("traffic", "traffic sums to {total}, expected 100 (or all 0)",
                                                "adjust the percentages so they add up to 100", total=total)
    if ep.mirror_traffic:
        if len(ep.mirror_traffic) > 1:
            yield at + ("mirror_traffic",), spec_error("traffic", "mirror_traffic names more than one deployment",
                                                       "mirror to one deployment")
        for dep_name, percent in ep.mirror_traffic.items():
            if percent and (ep.traffic or {}).get(dep_name, 0) > 0:
                yield at + ("mirror_traffic", dep_name), spec_error(
                    "traffic", "'{value}' receives live traffic and cannot also be a mirror target",
                    "mirror to a deployment with 0 live traffic", value=dep_name)


def _deployment_problems(spec: ProjectSpec, ep: EndpointDef, dep: DeploymentDef, at: tuple[str | int, ...]) -> Iterator[Problem]:
    k8s = ep.kind == "kubernetes"
    for field, table, what in (("model", spec.models, "models"), ("environment", spec.environments, "environments"),
                               ("code", spec.code, "code")):
        key = getattr(dep, field)
        if key is not None and key not in table:
            shown = ", ".join(sorted(table)) or f"(none: add a '{what}:' section)"
            yield at + (field,), spec_error("unknown_asset", "'{value}' is not in {what}", "name one of: " + shown,
                                            value=key, what=what)
    if (dep.code is None) != (dep.scoring_script is None):
        missing = "scoring_script" if dep.scoring_script is None else "code"
        yield at + ((("code" if dep.code else "scoring_script")),), spec_error(
            "code", "code and scoring_script go together; {missing} is missing", "give both, or neither for MLflow "
            "no-code and custom containers", missing=missing)
    if dep.code is not None and dep.environment is None:
        yield at + ("code",), spec_error("code", "a scoring script needs an environment to run in",
                                         "add 'environment: <key of an environment>'")
    if not k8s:
        if dep.instance_type is None:
            yield at, spec_error("missing", "a managed deployment needs instance_type",
                                 "add e.g. 'instance_type: Standard_F4s_v2'")
        if dep.instance_count is None:
            yield at, spec_error("missing", "a managed deployment needs instance_count", "add e.g. 'instance_count: 3'")
        if dep.resources is not None:
            yield at + ("resources",), spec_error("kind", "resources applies to Kubernetes deployments only",
                                                  "remove it (managed deployments size by instance_type)")
        if isinstance(dep.scale_settings, TargetUtilizationScaleSettings):
            yield at + ("scale_settings",), spec_error(
                "kind", "managed deployments accept only scale_settings type default",
                "remove scale_settings (managed autoscale is an Azure Monitor resource)")
    else:
        if dep.egress_public_network_access is not None:
            yield at + ("egress_public_network_access",), spec_error(
                "kind", "egress_public_network_access applies to managed deployments only", "remove it")
        if isinstance(dep.scale_settings, DefaultScaleSettings) and dep.instance_count is None:
            yield at + ("scale_settings",), spec_error("missing", "scale_settings type default needs instance_count",
                                                       "add instance_count")
        for field, table in (("model", spec.models), ("environment", spec.environments), ("code", spec.code)):
            asset = table.get(getattr(dep, field) or "")
            ref = getattr(asset, "reference", None) if asset is not None else None
            if ref and ref.startswith("azureml://registries/"):
                yield at + (field,), spec_error("kind", "Kubernetes deployments cannot use registry assets ({value})",
                                                "register the asset in the workspace and refer to it there", value=ref)
    if dep.instance_count is not None and dep.instance_count < 1:
        yield at + ("instance_count",), spec_error("range", "instance_count must be at least 1", "write 1 or more")
    if dep.startup_probe is not None and spec.target.api_version[:10] < STARTUP_PROBE_API_VERSION:
        yield at + ("startup_probe",), spec_error(
            "api_version", "startup_probe needs api-version {need} or later; target.api_version is {value}",
            "set target.api_version to {need} or later, or remove startup_probe".replace("{need}", STARTUP_PROBE_API_VERSION),
            need=STARTUP_PROBE_API_VERSION, value=spec.target.api_version, at_key=True)
    for probe_name in ("liveness_probe", "readiness_probe", "startup_probe"):
        probe = getattr(dep, probe_name)
        if probe is not None:
            for field in ("initial_delay", "period", "timeout", "success_threshold", "failure_threshold"):
                if getattr(probe, field) < 0:
                    yield at + (probe_name, field), spec_error("range", "{field} must not be negative", "write 0 or more",
                                                               field=field)
    if dep.request_settings is not None:
        rs = dep.request_settings
        for field in ("request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"):
            value = getattr(rs, field)
            if value is not None and value < 0:
                yield at + ("request_settings", field), spec_error("range", "{field} must not be negative",
                                                                   "write 0 or more", field=field)
    if isinstance(dep.scale_settings, TargetUtilizationScaleSettings):
        ss = dep.scale_settings
        for field in ("min_instances", "max_instances", "target_utilization_percentage", "polling_interval"):
            if getattr(ss, field) < 0:
                yield at + ("scale_settings", field), spec_error("range", "{field} must not be negative",
                                                                 "write 0 or more", field=field)
    if dep.resources is not None:
        for section in ("requests", "limits"):
            settings = getattr(dep.resources, section)
            if settings is None:
                continue
            for field in ("cpu", "memory", "gpu"):
                value = getattr(settings, field)
                if value is not None and not re.fullmatch(r"[0-9]+(\.[0-9]+)?[a-zA-Z]{0,2}", value):
                    yield at + ("resources", section, "nvidia.com/gpu" if field == "gpu" else field), spec_error(
                        "invalid_quantity", "'{value}' is not a Kubernetes quantity",
                        'write e.g. "500m", "2", "1Gi"', value=value)


# ---------------------------------------------------------------------------------------------
# JSON Schema


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``amlforge.yaml`` (what ``amlforge schema`` prints)."""
    schema = ProjectSpec.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_URL, **schema}


def schema_text() -> str:
    """:func:`spec_json_schema` as the text published in ``amlforge.schema.json``."""
    import json

    return json.dumps(spec_json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# Loading


class LoadedSpec(Struct, frozen=True):
    """A validated spec with where it came from."""

    spec: ProjectSpec
    path: Path
    source: SourceMap

    @property
    def folder(self) -> Path:
        """The folder that paths in the spec are relative to."""
        return self.path.parent


class SpecError(UserInputError):
    """A spec that does not validate: every problem, located."""

    def __init__(self, problems: list[LoadProblem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        super().__init__(first.message + more, first.location, first.hint)
        self.problems = problems


def is_spec_file(path: Path, data: Any) -> bool:
    """Whether a parsed YAML file is a project spec: its name, or a ``$schema`` naming amlforge.schema.json."""
    if path.name in SPEC_FILE_NAMES:
        return True
    schema = data.get("$schema") if isinstance(data, dict) else None
    return isinstance(schema, str) and schema.rstrip("#").endswith(SCHEMA_FILE_NAME)


def spec_problems(doc: Document, error: ValidationError) -> list[LoadProblem]:
    """Located problems for a spec that failed validation (``AML1xx`` codes, as az-ml YAML)."""
    from amlforge.specs.loader import LoadProblem, validation_problems

    problems: list[LoadProblem] = []
    standard: list[Any] = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p != "[key]")
        if err["type"].startswith("spec_"):
            ctx = err.get("ctx") or {}
            code = {"spec_unknown_asset": "AML110", "spec_invalid_reference": "AML110"}.get(err["type"], "AML104")
            key = err["loc"][-1:] == ("[key]",) or err["type"] == "spec_duplicate" or bool(ctx.get("at_key"))
            location = doc.source.locate(loc, key=key)
            problems.append(LoadProblem(code, location, err["msg"], str(ctx.get("hint", "fix the value at this position"))))
        else:
            standard.append(err)
    if standard:
        problems.extend(validation_problems(doc, ProjectSpec, _Errors(standard)))
    problems.sort(key=lambda p: (p.location.line, p.location.column, p.message))
    return problems


class _Errors:
    """Just enough of ValidationError for :func:`validation_problems`."""

    def __init__(self, errors: list[Any]) -> None:
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[Any]:
        return self._errors


def validate_document(doc: Document) -> tuple[ProjectSpec | None, list[LoadProblem]]:
    """Validate a parsed spec document; the spec, or the located problems."""
    from amlforge.specs.loader import LoadProblem

    if not isinstance(doc.data, dict):
        return None, [LoadProblem("AML005", doc.source.locate(()), "amlforge.yaml should be a mapping of keys",
                                  "start from 'amlforge init'", fatal=True)]
    try:
        return ProjectSpec.model_validate(doc.data), []
    except ValidationError as e:
        return None, spec_problems(doc, e)


def load_spec(path: Path | str) -> LoadedSpec:
    """Read, parse and validate ``amlforge.yaml``.

    Raises:
        UserInputError: unreadable or malformed YAML.
        SpecError: the spec does not validate (every problem, with file, line and column).
    """
    from amlforge.specs.loader import display_path
    from amlforge.specs.project import Document
    from amlforge.specs.source import parse_yaml, read_text

    path = Path(path)
    display = display_path(path)
    data, smap = parse_yaml(read_text(path, display), display)
    if data is None:
        raise UserInputError("the spec is empty", Location(display, 1, 1), "start from 'amlforge init'")
    doc = Document(path, display, "project_spec", data, smap)
    spec, problems = validate_document(doc)
    if spec is None:
        raise SpecError(problems)
    if smap.duplicates:
        dup = smap.duplicates[0]
        raise UserInputError(f"'{'.'.join(str(p) for p in dup.path)}' is given twice (first on line {dup.first_line})",
                             Location(display, dup.line, dup.column), "keep one of them")
    return LoadedSpec(spec, Path(path).resolve(), smap)


__all__ = [
    "CodeDef",
    "DEFAULT_API_VERSION",
    "DeploymentDef",
    "EndpointDef",
    "EndpointIdentity",
    "EnvironmentDef",
    "LoadedSpec",
    "ModelDef",
    "ProjectSpec",
    "SCHEMA_FILE_NAME",
    "SCHEMA_URL",
    "SPEC_FILE_NAMES",
    "SpecError",
    "Target",
    "UserIdentity",
    "consistency_problems",
    "is_spec_file",
    "is_uri",
    "load_spec",
    "normalise_path",
    "schema_text",
    "spec_error",
    "spec_json_schema",
    "spec_problems",
    "validate_document",
]
