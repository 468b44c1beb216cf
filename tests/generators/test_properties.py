"""Property-based tests: random valid specs pass every oracle, and spec -> az-ml YAML -> import
-> spec is the identity (up to what az-ml YAML cannot say: the name and version of a code
folder, the spec's keys for registered references, and assets no deployment uses; and a lone
deployment without a traffic plan, which import gives 100 %, as ``--all-traffic`` does)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from amlforge.generators.importer import import_project
from amlforge.generators.inputs import read_inputs
from amlforge.generators.pipeline import render_files
from amlforge.generators.spec_yaml import render_spec
from amlforge.specs.project_spec import _PLACEHOLDER, ProjectSpec, load_spec
from tests.generators.oracles import check_all

pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is a test dependency")

#: Files every generated project can point at (created once per test session).
MODEL_PATHS = ["model", "models/model 'two' #2"]
CODE_PATHS = ["src", "code/src ${x}"]
CONDA_FILES = ["env/conda.yaml", "env/other 'c'.yaml"]
IMAGES = ["mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1",
          "mcr.microsoft.com/azureml/minimal-py312-inference:20260715.v1",
          "myregistry.azurecr.io/team/image@sha256:" + "a" * 64]
SKUS = ["Standard_D4as_v4", "Standard_F4s_v2", "Standard_E4s_v3", "Standard_DS3_v2"]
CONDA = ("name: env\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11.9\n  - pip=24.2\n  - pip:\n"
         "      - azureml-inference-server-http==1.5.1\n")

_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cn", "Co"))
LINE = st.text(_CHARS, max_size=16).filter(lambda s: not _PLACEHOLDER.search(s))
TEXT = st.lists(st.one_of(_CHARS, st.sampled_from(["\n", "\t", "'", '"', "${", "#", "\\", "[", "]"])),
                max_size=12).map("".join).filter(lambda s: not _PLACEHOLDER.search(s))
TAG_KEY = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cn", "Co"),
                                blacklist_characters="<>%&\\?/"), min_size=1, max_size=10)
TAGS = st.none() | st.dictionaries(TAG_KEY, LINE, min_size=1, max_size=3)
DNS = st.from_regex(r"[a-z][a-z0-9-]{1,8}[a-z0-9]", fullmatch=True)
ASSET = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True).filter(lambda s: not s.startswith("azureml"))
VERSION = st.from_regex(r"[1-9][0-9]{0,2}(\.[0-9])?", fullmatch=True)
ENV_VAR = st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True)


def _optional(draw: Any, strategy: Any, out: dict[str, Any], key: str) -> None:
    value = draw(st.none() | strategy)
    if value is not None:
        out[key] = value


@st.composite
def specs(draw: Any) -> dict[str, Any]:
    """A valid amlforge.yaml as data."""
    environments: dict[str, Any] = {}
    for name in draw(st.lists(ASSET, min_size=1, max_size=3, unique=True)):
        kind = draw(st.sampled_from(["image", "image", "dockerfile", "build", "short", "registry"]))
        env: dict[str, Any] = {}
        if kind in ("short", "registry"):
            env["reference"] = (f"azureml:{draw(ASSET)}:{draw(VERSION)}" if kind == "short" else
                                f"azureml://registries/azureml/environments/{draw(ASSET)}/versions/{draw(VERSION)}")
        else:
            env["version"] = draw(VERSION)
            _optional(draw, TEXT, env, "description")
            _optional(draw, TAGS, env, "tags")
            if kind == "build":
                env["build"] = {"path": "ctx"}
                env["inference_config"] = {r: {"port": draw(st.integers(1, 65535)), "path": "/" + draw(ASSET)}
                                           for r in ("liveness_route", "readiness_route", "scoring_route")}
            else:
                env["image"] = draw(st.sampled_from(IMAGES))
                if kind == "dockerfile" or draw(st.booleans()):
                    env["conda_file"] = draw(st.sampled_from(CONDA_FILES))
                if kind == "dockerfile":
                    env["dockerfile"] = True
        environments[name] = env
    models: dict[str, Any] = {}
    for name in draw(st.lists(ASSET, min_size=1, max_size=3, unique=True)):
        kind = draw(st.sampled_from(["path", "path", "uri", "short", "registry"]))
        if kind == "short":
            models[name] = {"reference": f"azureml:{draw(ASSET)}:{draw(VERSION)}"}
        elif kind == "registry":
            models[name] = {"reference": f"azureml://registries/reg/models/{draw(ASSET)}/versions/{draw(VERSION)}"}
        else:
            model: dict[str, Any] = {"version": draw(VERSION),
                                     "type": draw(st.sampled_from(["custom_model", "mlflow_model", "triton_model"]))}
            _optional(draw, TEXT, model, "description")
            _optional(draw, TAGS, model, "tags")
            model["path"] = (draw(st.sampled_from(MODEL_PATHS)) if kind == "path" else
                             f"azureml://datastores/workspaceblobstore/paths/{draw(ASSET)}/")
            models[name] = model
    code = {name: ({"path": draw(st.sampled_from(CODE_PATHS)), "version": draw(VERSION)} if draw(st.booleans())
                   else {"reference": f"azureml:{draw(ASSET)}:{draw(VERSION)}"})
            for name in draw(st.lists(ASSET, min_size=1, max_size=2, unique=True))}
    endpoints: dict[str, Any] = {}
    for ep_name in draw(st.lists(DNS, min_size=1, max_size=2, unique=True)):
        k8s = draw(st.booleans())
        ep: dict[str, Any] = {}
        if k8s:
            ep["kind"] = "kubernetes"
            ep["compute"] = draw(DNS)
        _optional(draw, TEXT, ep, "description")
        _optional(draw, TAGS, ep, "tags")
        ep["auth_mode"] = draw(st.sampled_from(["key", "aml_token"] + ([] if k8s else ["aad_token"])))
        identity = draw(st.sampled_from([None, "system_assigned", "none", "user_assigned"]))
        if identity is not None:
            ep["identity"] = {"type": identity}
            if identity == "user_assigned":
                ep["identity"]["user_assigned_identities"] = [{"resource_id": (
                    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                    f"Microsoft.ManagedIdentity/userAssignedIdentities/{draw(ASSET)}")}]
        if not k8s:
            _optional(draw, st.sampled_from(["enabled", "disabled"]), ep, "public_network_access")
        usable = {k: v for k, v in environments.items()
                  if not (k8s and str(v.get("reference", "")).startswith("azureml://registries/"))}
        deployments: dict[str, Any] = {}
        for dep_name in draw(st.lists(DNS, min_size=1, max_size=3, unique=True)):
            dep: dict[str, Any] = {}
            _optional(draw, TEXT, dep, "description")
            _optional(draw, TAGS, dep, "tags")
            models_ok = [k for k, v in models.items()
                         if not (k8s and str(v.get("reference", "")).startswith("azureml://registries/"))]
            if models_ok and draw(st.booleans()):
                dep["model"] = draw(st.sampled_from(models_ok))
            if usable and draw(st.booleans()):
                dep["environment"] = draw(st.sampled_from(sorted(usable)))
                if draw(st.booleans()):
                    dep["code"] = draw(st.sampled_from(sorted(code)))
                    dep["scoring_script"] = draw(st.sampled_from(["score.py", "app/score 'x'.py"]))
            if not k8s or draw(st.booleans()):
                dep["instance_type"] = draw(st.sampled_from(SKUS)) if not k8s else "defaultinstancetype"
            scale = draw(st.sampled_from(["none", "default"] + (["target"] if k8s else [])))
            if not k8s or scale == "default":
                dep["instance_count"] = draw(st.integers(1, 5))
            if scale == "default":
                dep["scale_settings"] = {"type": "default"}
            elif scale == "target":
                lo = draw(st.integers(1, 3))
                dep["scale_settings"] = {"type": "target_utilization", "min_instances": lo,
                                         "max_instances": lo + draw(st.integers(0, 3)),
                                         "polling_interval": draw(st.integers(1, 60))}
            if draw(st.booleans()):
                dep["app_insights_enabled"] = True
            if not k8s and draw(st.booleans()):
                dep["egress_public_network_access"] = draw(st.sampled_from(["enabled", "disabled"]))
            _optional(draw, st.dictionaries(ENV_VAR, LINE, min_size=1, max_size=3), dep, "environment_variables")
            if draw(st.booleans()):
                rs: dict[str, Any] = {"request_timeout_ms": draw(st.integers(1, 180000))}
                if draw(st.booleans()):
                    rs["max_concurrent_requests_per_instance"] = draw(st.integers(1, 8))
                dep["request_settings"] = rs
            for probe in ("liveness_probe", "readiness_probe", "startup_probe"):
                if draw(st.booleans()):
                    keys = draw(st.lists(st.sampled_from(["initial_delay", "period", "timeout", "success_threshold",
                                                          "failure_threshold"]), min_size=1, unique=True))
                    dep[probe] = {k: draw(st.integers(1, 600)) for k in keys}
            if k8s and draw(st.booleans()):
                dep["resources"] = {"requests": {"cpu": draw(st.sampled_from(["100m", "1", "1.5"])),
                                                 "memory": draw(st.sampled_from(["512Mi", "2Gi"]))}}
                if draw(st.booleans()):
                    dep["resources"]["limits"] = {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"}
            deployments[dep_name] = dep
        ep["deployments"] = deployments
        plan = draw(st.sampled_from(["none", "split", "zero"]))
        names = sorted(deployments)
        if plan == "split":
            cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(names) - 1, max_size=len(names) - 1)))
            bounds = [0, *cuts, 100]
            ep["traffic"] = {n: bounds[i + 1] - bounds[i] for i, n in enumerate(names)}
        elif plan == "zero":
            ep["traffic"] = {n: 0 for n in names}
        idle = [n for n in names if not (ep.get("traffic") or {}).get(n)]
        if not k8s and idle and draw(st.booleans()):
            ep["mirror_traffic"] = {draw(st.sampled_from(idle)): draw(st.integers(0, 50))}
        endpoints[ep_name] = ep
    return {"version": 1,
            "target": {"workspace": "ws-prop", "resource_group": "rg-prop", "region": "westeurope",
                       **draw(st.sampled_from([{}, {"api_version": "2026-05-01"}]))},
            "environments": environments, "models": models, "code": code, "endpoints": endpoints}


@pytest.fixture(scope="module")
def layout() -> Any:
    """A project folder with every file the strategies point at."""
    root = Path(tempfile.mkdtemp(prefix="amlforge-prop-"))
    for path in MODEL_PATHS:
        (root / path).mkdir(parents=True)
        (root / path / "weights.json").write_text("{}")
    for path in CODE_PATHS:
        (root / path / "app").mkdir(parents=True)
        (root / path / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
        (root / path / "app" / "score 'x'.py").write_text("def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
    for path in CONDA_FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(CONDA)
    (root / "ctx").mkdir()
    (root / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    (root / "pyproject.toml").write_text("")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _render(layout: Path, data: dict[str, Any]) -> tuple[Any, dict[str, str], Path]:
    spec = ProjectSpec.model_validate(data)
    spec_path = layout / "amlforge.yaml"
    spec_path.write_text(render_spec(spec))  # the spec writer round-trips too
    loaded = load_spec(spec_path)
    assert loaded.spec.model_dump() == spec.model_dump()
    out = layout / "generated"
    shutil.rmtree(out, ignore_errors=True)
    files = render_files(read_inputs(loaded, out))
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return loaded, files, out


def bounded(examples: int) -> settings:
    """Few examples, fixed seed: the suite stays fast and reproducible."""
    # Shrinking a failure can take minutes (it took over five in CI once): it runs only when
    # AMLFORGE_HYPOTHESIS_SHRINK=1 asks for it, so a failure in CI reports its raw example fast.
    phases = list(Phase) if os.environ.get("AMLFORGE_HYPOTHESIS_SHRINK") else [Phase.explicit, Phase.generate]
    return settings(max_examples=examples, deadline=None, derandomize=not os.environ.get("AMLFORGE_HYPOTHESIS_EXAMPLES"),
                    database=None, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


@bounded(int(os.environ.get("AMLFORGE_HYPOTHESIS_EXAMPLES", 40)))
@given(data=specs())
def test_random_specs_pass_every_oracle(layout: Path, data: dict[str, Any]) -> None:
    loaded, files, out = _render(layout, data)
    check_all(out, loaded, files)


def canonical(spec: ProjectSpec) -> dict[str, Any]:
    """The spec with what az-ml YAML cannot carry normalised away (see the module docstring)."""
    d = spec.model_dump(mode="json")
    d.pop("schema_", None)

    def asset(kind: str, key: str | None) -> Any:
        if key is None:
            return None
        entry = d[kind][key]
        if entry.get("reference"):
            return ["reference", entry["reference"]]
        return ["path", entry["path"]] if kind == "code" else [kind, key]

    used_models = set()
    for ep in d["endpoints"].values():
        if ep["traffic"] is None and ep["mirror_traffic"] is None and len(ep["deployments"]) == 1:
            ep["traffic"] = {name: 100 for name in ep["deployments"]}  # import's reading of --all-traffic
        for dep in ep["deployments"].values():
            dep.pop("startup_probe")  # ARM and Bicep only: az-ml YAML has no startup_probe
            used_models.add(dep["model"])
            dep["model"], dep["environment"], dep["code"] = (
                asset("models", dep["model"]), asset("environments", dep["environment"]), asset("code", dep["code"]))
    d["models"] = {k: v for k, v in d["models"].items() if k in used_models and not v.get("reference")}
    d["environments"] = {k: v for k, v in d["environments"].items() if not v.get("reference")}
    d.pop("code")
    return d


@bounded(int(os.environ.get("AMLFORGE_HYPOTHESIS_EXAMPLES", 150)))
@given(data=specs())
def test_spec_to_yaml_to_import_is_the_identity(layout: Path, data: dict[str, Any]) -> None:
    loaded, _, out = _render(layout, data)
    target = loaded.spec.target.model_dump(exclude_unset=True)
    imported = import_project(out / "azureml", spec_folder=layout, target=target)
    assert canonical(imported) == canonical(loaded.spec)


@bounded(int(os.environ.get("AMLFORGE_HYPOTHESIS_EXAMPLES", 25)))
@given(data=specs())
def test_lint_of_a_spec_finds_what_lint_of_its_output_finds(layout: Path, data: dict[str, Any]) -> None:
    """``amlforge lint amlforge.yaml`` (rendered in memory, findings moved to the spec's lines)
    reports what linting the written az-ml YAML reports, every finding at a real place."""
    from amlforge.policies.engine import lint_paths

    loaded, _, out = _render(layout, data)
    at_spec = lint_paths([loaded.path]).findings
    # AML319 at the spec is about the ARM, Bicep and Terraform it generates, not the az-ml YAML
    no_plan = {name for name, ep in loaded.spec.endpoints.items() if ep.traffic is None}
    assert {f.message.split("'")[1] for f in at_spec if f.rule == "AML319"} == no_plan
    at_spec = [f for f in at_spec if f.rule != "AML319"]
    on_disk = lint_paths([out / "azureml"], profile=loaded.spec.target.profile).findings
    # as sets: two deployments that share a model report its problem once, at the model's line
    assert {(f.rule, f.severity.value, f.message) for f in at_spec} == \
        {(f.rule, f.severity.value, f.message.replace("'../../", "'")) for f in on_disk}
    lines = loaded.path.read_text().splitlines()
    for f in at_spec:
        where = Path(os.path.abspath(f.location.file))
        assert where.is_file(), f  # the spec, or a file it names: never the in-memory YAML
        if where == loaded.path:
            assert 1 <= f.location.line <= len(lines), f


@bounded(int(os.environ.get("AMLFORGE_HYPOTHESIS_EXAMPLES", 30)))
@given(data=specs())
def test_templates_read_back_as_the_yaml_does(layout: Path, data: dict[str, Any]) -> None:
    """spec -> ARM / Bicep / azapi -> read back is the same Project as spec -> az-ml YAML -> read back
    (up to what only one side can say: tests/readers/roundtrip.py)."""
    from amlforge.generators.pipeline import ALL_TARGETS
    from tests.readers.roundtrip import canonical, read_back

    loaded, _, out = _render(layout, data)
    for rel, text in render_files(read_inputs(loaded, out), ALL_TARGETS).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    expected = canonical(read_back([out / "azureml"])[0])
    for template in ("arm/azuredeploy.json", "bicep/main.bicep", "terraform/main.tf"):
        project, problems = read_back([out / template])
        assert problems == [], (template, problems)
        assert canonical(project) == expected, template
