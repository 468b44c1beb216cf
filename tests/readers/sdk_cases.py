"""Random online deployments rendered two ways: az-ml YAML, and Python with the azure-ai-ml SDK.

A case is a tree of plain values and :class:`Ent` nodes (an SDK constructor call). ``to_yaml``
renders the az-ml YAML data; ``render_python`` renders a module that builds the same entities,
spelling each value in one of several styles the Python reader must follow (a literal, a
constant bound earlier, an f-string of known parts, arithmetic, an attribute assignment after
the constructor, an import alias).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st


@dataclass
class Ent:
    """An SDK constructor call and its keyword arguments (YAML keys unless noted in ``yaml``)."""

    cls: str
    kwargs: dict[str, Any]
    fixed: dict[str, Any] = field(default_factory=dict)  # keys the YAML spells that the call does not


def to_yaml(value: Any) -> Any:
    if isinstance(value, Ent):
        out = dict(value.fixed)
        for key, item in value.kwargs.items():
            if key in ("code_path", "scoring_script") and value.cls.endswith("Deployment"):
                code = out.setdefault("code_configuration", {})
                code["code" if key == "code_path" else "scoring_script"] = to_yaml(item)
            else:
                out[key] = to_yaml(item)
        return out
    if isinstance(value, dict):
        return {k: to_yaml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_yaml(v) for v in value]
    return value


SKUS = ["Standard_DS3_v2", "Standard_F4s_v2", "Standard_DS3_v9", "Standard_NC6s_v3", "Standard_E2s_v3",
        "Standard_DS1_v2", "Standard_F2s_v2", "Standard_D2as_v4"]
NAMES = ["blue", "green", "b", "prod-v2", "Blue_1"]
ENDPOINTS = ["my-endpoint", "ep", "churn-scoring-prod", "1bad"]

_ints = st.one_of(st.integers(0, 30), st.sampled_from([90000, 180000, 5000, 60, 1]))


def _probe() -> st.SearchStrategy[Ent]:
    keys = ["failure_threshold", "success_threshold", "timeout", "period", "initial_delay"]
    return st.dictionaries(st.sampled_from(keys), st.integers(0, 700), max_size=4).map(
        lambda kw: Ent("ProbeSettings", kw))


def _environment() -> st.SearchStrategy[Any]:
    conda = st.fixed_dictionaries({
        "name": st.just("env"),
        "channels": st.just(["conda-forge"]),
        "dependencies": st.lists(st.sampled_from([
            "python=3.10", "python=3.7", "pip", "numpy", "scikit-learn=1.3.0",
            {"pip": ["azureml-inference-server-http", "mlflow==2.9.2"]},
            {"pip": ["azureml-defaults", "flask"]}]), min_size=1, max_size=4, unique_by=str),
    })
    image = st.sampled_from(["mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
                             "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:20240709.v1",
                             "python:3.10"])
    inline = st.builds(lambda img, c: Ent("Environment", {"image": img, **({"conda_file": c} if c else {})}),
                       image, st.one_of(st.none(), conda))
    return st.one_of(st.sampled_from(["azureml:my-env:1", "azureml://registries/azureml/environments/sklearn-1.5/versions/1"]),
                     inline)


def _model() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["azureml:my-model:1", "azureml:my-model@latest"]),
        st.builds(lambda t: Ent("Model", {"path": "model", **({"type": t} if t else {})}),
                  st.sampled_from([None, "custom_model", "mlflow_model"])),
    )


@st.composite
def deployments(draw: Any, kubernetes: bool | None = None) -> Ent:
    """A random deployment entity (managed, or Kubernetes when asked)."""
    k8s = draw(st.booleans()) if kubernetes is None else kubernetes
    kw: dict[str, Any] = {"name": draw(st.sampled_from(NAMES)), "endpoint_name": draw(st.sampled_from(ENDPOINTS))}
    optional = {
        "model": _model(),
        "environment": _environment(),
        "instance_type": st.sampled_from(SKUS),
        "instance_count": st.integers(0, 25),
        "request_settings": st.dictionaries(
            st.sampled_from(["request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"]),
            _ints, min_size=1).map(lambda d: Ent("OnlineRequestSettings", d)),
        "liveness_probe": _probe(),
        "readiness_probe": _probe(),
        "app_insights_enabled": st.booleans(),
        "environment_variables": st.dictionaries(st.sampled_from(["A", "WORKERS", "AZUREML_ENTRY_SCRIPT"]),
                                                 st.sampled_from(["1", "x", "score.py"]), max_size=2),
        "scale_settings": st.one_of(
            st.just(Ent("DefaultScaleSettings", {}, {"type": "default"})),
            st.builds(lambda a, b: Ent("TargetUtilizationScaleSettings", {"min_instances": a, "max_instances": b},
                                       {"type": "target_utilization"}), st.integers(0, 5), st.integers(1, 10))),
        "code": st.sampled_from(["config", "shortcut"]),
    }
    if not k8s:
        optional["egress_public_network_access"] = st.sampled_from(["enabled", "disabled"])
    else:
        optional["resources"] = st.builds(
            lambda cpu, mem: Ent("ResourceRequirementsSettings", {"requests": Ent("ResourceSettings", {
                "cpu": cpu, "memory": mem})}), st.sampled_from(["100m", "1", "2"]), st.sampled_from(["512Mi", "2Gi"]))
    chosen = draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=len(optional)))
    for key in sorted(chosen):
        value = draw(optional[key])
        if key == "code":
            if value == "config":
                kw["code_configuration"] = Ent("CodeConfiguration", {"code": "src", "scoring_script": "score.py"})
            else:
                kw["code_path"] = "src"
                kw["scoring_script"] = "score.py"
        else:
            kw[key] = value
    cls = "KubernetesOnlineDeployment" if k8s else "ManagedOnlineDeployment"
    return Ent(cls, kw, {"type": "kubernetes"} if k8s else {})


@st.composite
def endpoints(draw: Any, deployment: Ent) -> Ent:
    kw: dict[str, Any] = {"name": deployment.kwargs["endpoint_name"]}
    if draw(st.booleans()):
        kw["auth_mode"] = draw(st.sampled_from(["key", "aml_token", "aad_token"]))
    if draw(st.booleans()):
        kw["traffic"] = {deployment.kwargs["name"]: draw(st.sampled_from([100, 90, 0]))}
    if draw(st.booleans()):
        kw["public_network_access"] = draw(st.sampled_from(["enabled", "disabled"]))
    return Ent("ManagedOnlineEndpoint", kw)


STYLES = ("literal", "constant", "fstring", "arith", "assign")


@dataclass
class Renderer:
    """Python source for a set of entities, in styles drawn per value."""

    styles: list[str]
    alias: str = "plain"  # plain | module | class
    consts: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    n: int = 0

    def style(self) -> str:
        self.n += 1
        return self.styles[self.n % len(self.styles)] if self.styles else "literal"

    def ctor(self, cls: str) -> str:
        if self.alias == "module":
            return f"e.{cls}"
        if self.alias == "class":
            return f"_{cls}"
        return cls

    def value(self, value: Any, top: bool = False) -> str:
        if isinstance(value, Ent):
            args = ", ".join(f"{k}={self.value(v)}" for k, v in value.kwargs.items())
            return f"{self.ctor(value.cls)}({args})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.value(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.value(v) for v in value) + "]"
        style = self.style()
        if style == "constant" or (style == "assign" and not top):
            name = f"C{len(self.consts)}"
            self.consts.append(f"{name} = {value!r}")
            return name
        if style == "fstring" and isinstance(value, str) and len(value) > 1 and "{" not in value:
            name = f"P{len(self.consts)}"
            self.consts.append(f"{name} = {value[:1]!r}")
            return "f" + repr("{" + name + "}" + value[1:])
        if style == "arith" and isinstance(value, int) and not isinstance(value, bool):
            return f"({value + 7} - 7)"
        return repr(value)

    def entity(self, var: str, ent: Ent) -> str:
        args = []
        for key, v in ent.kwargs.items():
            # (azure-ai-ml cannot set scoring_script after the constructor: its property has no setter)
            if (not isinstance(v, (Ent, dict, list)) and key not in ("name", "code_path", "scoring_script")
                    and self.style() == "assign"):
                self.after.append(f"{var}.{key} = {self.value(v)}")
                continue
            args.append(f"    {key}={self.value(v, top=True)},")
        return f"{var} = {self.ctor(ent.cls)}(\n" + "\n".join(args) + "\n)"


CLASSES = ("ManagedOnlineDeployment", "KubernetesOnlineDeployment", "ManagedOnlineEndpoint", "Environment", "Model",
           "CodeConfiguration", "ProbeSettings", "OnlineRequestSettings", "DefaultScaleSettings",
           "TargetUtilizationScaleSettings", "ResourceRequirementsSettings", "ResourceSettings")


def render_python(entities: dict[str, Ent], styles: list[str], alias: str = "plain", traffic_after: bool = False) -> str:
    """A module that builds ``entities`` (variable name -> entity)."""
    r = Renderer(styles, alias)
    if alias == "module":
        head = "from azure.ai.ml import entities as e\n"
    elif alias == "class":
        head = "from azure.ai.ml.entities import " + ", ".join(f"{c} as _{c}" for c in CLASSES) + "\n"
    else:
        head = "from azure.ai.ml.entities import " + ", ".join(CLASSES) + "\n"
    body = []
    for var, ent in entities.items():
        if traffic_after and "traffic" in ent.kwargs:
            ent = Ent(ent.cls, {k: v for k, v in ent.kwargs.items() if k != "traffic"}, ent.fixed)
            r.after.append(f"{var}.traffic = {r.value(entities[var].kwargs['traffic'])}")
        body.append(r.entity(var, ent))
    return head + "\n".join(r.consts) + "\n\n" + "\n".join(body) + "\n" + "\n".join(r.after) + "\n"


__all__ = ["Ent", "deployments", "endpoints", "render_python", "to_yaml", "STYLES"]
