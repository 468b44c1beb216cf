"""The oracle of the template readers: a spec's generated template, read back, is the same
``Project`` as the spec's generated az-ml YAML, read back.

``canonical`` reduces a Project to what both forms can say. What they cannot both say is
normalised explicitly (each line below says why), so that everything else must match:
- a deployment's model: az-ml YAML has it inline (``path`` a local folder), a template names a
  ``models/versions`` resource (``modelUri`` a datastore URI): compared by name, version, type,
  description and tags;
- code: az-ml YAML inlines the local folder; a template names a ``codes/versions`` resource
  whose URI is an upload location: compared by scoring script only;
- an environment's conda file: a path in az-ml YAML, its text in a template: compared by the
  parsed channels and dependencies;
- ``startup_probe``: templates only (az-ml YAML has no such key);
- the endpoint ``identity``: a template always states it (system-assigned by default);
- environments built from a Docker context: registered from their az-ml YAML (which uploads
  the context), so a template only refers to them by id: left out of the environments compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlforge.specs.project import Project


def _conda(project: Project, env: Any) -> Any:
    conda = project.conda_for(env)
    if conda is None:
        return None
    return {"channels": conda.channels, "deps": sorted(d.raw for d in conda.dependencies)}


def canonical(project: Project) -> dict[str, Any]:
    """What an az-ml YAML project and a template project must agree on."""
    out: dict[str, Any] = {"endpoints": {}, "deployments": {}, "environments": {}, "models": {}}
    for ep in project.endpoints:
        d = ep.spec.model_dump(mode="json", exclude={"schema_"})
        if d.get("identity") is None:
            d["identity"] = {"type": "system_assigned", "user_assigned_identities": None,
                             "principal_id": None, "tenant_id": None}
        out["endpoints"][ep.spec.name] = d
    for dep in project.deployments:
        d = dep.spec.model_dump(mode="json", exclude={"schema_"})
        d.pop("startup_probe", None)
        model = project.model_of(dep)
        d["model"] = None if model is None else {
            k: getattr(model.spec, k) for k in ("name", "version", "type", "description", "tags")}
        if d["model"] is not None:
            d["model"]["version"] = str(d["model"]["version"])
        if d["model"] is None and isinstance(dep.spec.model, str):
            d["model"] = dep.spec.model
        env = project.environment_of(dep)
        if env is not None:
            d["environment"] = (env.spec.name, str(env.spec.version))
        elif isinstance(dep.spec.environment, str) and dep.spec.environment.count(":") == 2:
            d["environment"] = tuple(dep.spec.environment.split(":")[1:])  # azureml:name:version
        if d.get("code_configuration"):
            d["code_configuration"] = {"scoring_script": d["code_configuration"]["scoring_script"]}
        out["deployments"][(dep.spec.endpoint_name, dep.spec.name)] = d
    for env in project.environments:
        if env.prefix:
            continue  # inline (az-ml YAML never writes one; a template never has one)
        if env.spec.build is not None:
            continue
        d = env.spec.model_dump(mode="json", exclude={"schema_", "conda_file"})
        d["conda"] = _conda(project, env)
        out["environments"][(env.spec.name, str(env.spec.version))] = d
    return out


def read_back(paths: list[Path], **options: Any) -> tuple[Project, list[Any]]:
    """Load files as ``amlforge lint`` does; the project and the load problems."""
    from amlforge.readers.base import LoadOptions
    from amlforge.specs.loader import load_project

    result = load_project(paths, LoadOptions(**options))
    return result.project, result.problems
