"""``amlforge import``: existing az-ml YAML, or Python and notebooks that use azure-ai-ml -> a project spec.

The folder is read with the same loader as ``amlforge lint`` (:func:`load_project`), so every
file is validated with file:line:col errors. Then:

* endpoints keep their names, settings and traffic plan; deployments join their endpoint; an
  endpoint without traffic and with one deployment gives it 100 % (as ``--all-traffic`` does);
* inline models and environments become entries of ``models`` and ``environments`` (named
  after the asset name, else after the folder or file they point to); identical ones are
  shared; standalone environment and model files are matched to ``azureml:<name>:<version>``
  references; other references stay references;
* code folders become entries of ``code``, named after the folder (az-ml YAML has no name
  for them) with version ``1``;
* paths are rebased from each YAML file to the folder of the spec being written; a conda
  lock written by ``amlforge lock`` (``conda.lock.yaml``) maps back to its conda file, and a
  build context made by ``amlforge generate`` for ``dockerfile: true`` maps back to that
  environment (its Dockerfile says where it came from).

Python sources and notebooks are read by their readers (``amlforge/readers/``) into the same
documents. A value known only at run time (a function's result, a parameter) is left out of
the spec and listed in ``notes``; a name known only at run time is refused, with its location.

What az-ml YAML can say but the spec cannot (data collection, read-only fields, inline conda
mappings, ...) is refused with the file and line, rather than silently dropped.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from amlforge.errors import Location, UserInputError
from amlforge.specs.project_spec import SCHEMA_URL, ProjectSpec, is_uri

_UNSUPPORTED = {
    "endpoint": ("properties", "location", "id", "provisioning_state", "scoring_uri", "openapi_uri"),
    "deployment": ("properties", "data_collector", "id", "provisioning_state", "private_network_connection"),
    "environment": ("properties", "datastore", "id"),
    "model": ("properties", "stage", "flavors", "datastore", "system_metadata", "id"),
}


def _name_from(path: str, fallback: str) -> str:
    stem = posixpath.basename(posixpath.normpath(path)) if path else ""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", stem) if "." in stem and not stem.startswith(".") else stem
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")
    return name or fallback


class _Names:
    """Unique asset names: the wanted one, or ``<wanted>-2``, ``-3``..."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, wanted: str) -> str:
        name, n = wanted, 2
        while name.lower() in self.taken:
            name, n = f"{wanted}-{n}", n + 1
        self.taken.add(name.lower())
        return name


class _Importer:
    def __init__(self, spec_folder: Path) -> None:
        self.spec_folder = spec_folder
        self.environments: dict[str, dict[str, Any]] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.code: dict[str, dict[str, Any]] = {}
        self.env_names, self.model_names, self.code_names = _Names(), _Names(), _Names()
        self._env_by_key: dict[str, str] = {}
        self._model_by_key: dict[str, str] = {}
        self._code_by_key: dict[str, str] = {}

    # -- paths ------------------------------------------------------------------------------

    def rebase(self, doc_folder: Path, raw: str) -> str:
        """A path written in a YAML file in ``doc_folder``, relative to the spec folder."""
        if is_uri(raw):
            return raw
        absolute = Path(os.path.normpath(doc_folder / raw))
        return Path(os.path.relpath(absolute, self.spec_folder)).as_posix()

    def unlock(self, doc_folder: Path, raw: str) -> str:
        """The conda file a pinned lock (``<stem>.lock.yaml``) was made from, when it is next to it."""
        absolute = Path(os.path.normpath(doc_folder / raw))
        if absolute.name.endswith(".lock.yaml"):
            stem = absolute.name[: -len(".lock.yaml")]
            for suffix in (".yaml", ".yml"):
                original = absolute.with_name(stem + suffix)
                if original.is_file():
                    try:
                        from amlforge.integrations.condalock import lock_paths

                        if lock_paths(original).pinned_file == absolute.resolve():
                            return self.rebase(doc_folder, os.path.relpath(original, doc_folder))
                    except ImportError:  # pragma: no cover
                        pass
        return self.rebase(doc_folder, raw)

    # -- assets -----------------------------------------------------------------------------

    def environment(self, spec: Any, doc_folder: Path, where: Location, fallback: str = "environment") -> str:
        """Register an environment (inline or standalone); its key in ``environments``."""
        data: dict[str, Any] = {}
        if spec.version is not None:
            data["version"] = str(spec.version)
        if spec.description is not None:
            data["description"] = spec.description
        if spec.tags:
            data["tags"] = dict(sorted(spec.tags.items()))
        generated = self._generated_context(spec, doc_folder)
        if generated is not None:
            data["image"] = generated["image"]
            data["conda_file"] = generated["conda_file"]
            data["dockerfile"] = True
        elif spec.image is not None:
            data["image"] = spec.image
            if spec.conda_file is not None:
                if not isinstance(spec.conda_file, str):
                    raise UserInputError("an inline conda_file mapping cannot be imported", where,
                                         "move it to a conda.yaml file and name that file "
                                         "(conda_file: conda.yaml; in Python, conda_file=\"conda.yaml\")")
                data["conda_file"] = self.unlock(doc_folder, spec.conda_file)
        elif spec.build is not None:
            build: dict[str, Any] = {"path": self.rebase(doc_folder, spec.build.path)}
            if "dockerfile_path" in spec.build.model_fields_set:
                build["dockerfile_path"] = spec.build.dockerfile_path
            data["build"] = build
            if spec.inference_config is not None:
                data["inference_config"] = spec.inference_config.model_dump(mode="json")
        if "os_type" in spec.model_fields_set:
            data["os_type"] = spec.os_type
        if generated:
            fallback = generated["environment"]
        key = json.dumps({k: v for k, v in data.items() if k != "version"}, sort_keys=True) + "|" + str(
            data.get("version")) + "|" + str(spec.name)
        if key in self._env_by_key:
            return self._env_by_key[key]
        name = self.env_names(spec.name or fallback)
        if name.lower().startswith("azureml"):
            name = self.env_names("env-" + name)
        self.environments[name] = data
        self._env_by_key[key] = name
        return name

    def _generated_context(self, spec: Any, doc_folder: Path) -> dict[str, str] | None:
        if spec.build is None or is_uri(spec.build.path):
            return None
        dockerfile = Path(os.path.normpath(doc_folder / spec.build.path)) / spec.build.dockerfile_path
        from amlforge.errors import UserInputError
        from amlforge.specs.files import read_user_text

        try:
            head = [line + "\n" for line in read_user_text(dockerfile, errors="replace").splitlines()[:5]]
        except UserInputError:
            return None
        from amlforge.generators.dockerfile import SOURCE_MARKER

        for line in head:
            if line.startswith(SOURCE_MARKER):
                try:
                    marker = json.loads(line[len(SOURCE_MARKER):])
                    conda = self.rebase(dockerfile.parent, marker["conda_file"])
                    return {"environment": str(marker["environment"]), "image": str(marker["image"]), "conda_file": conda}
                except (ValueError, KeyError, TypeError):
                    return None
        return None

    def model(self, spec: Any, doc_folder: Path, fallback: str, where: Location) -> str:
        """Register an inline or standalone model; its key in ``models``."""
        if not spec.path:
            raise UserInputError("an inline model without a path cannot be imported", where, "add path: or use "
                                 "a registered reference azureml:<name>:<version>")
        data: dict[str, Any] = {}
        if spec.version is not None:
            data["version"] = str(spec.version)
        if "type" in spec.model_fields_set:
            data["type"] = spec.type
        if spec.description is not None:
            data["description"] = spec.description
        if spec.tags:
            data["tags"] = dict(sorted(spec.tags.items()))
        data["path"] = self.rebase(doc_folder, spec.path)
        key = json.dumps(data, sort_keys=True) + "|" + str(spec.name)
        if key in self._model_by_key:
            return self._model_by_key[key]
        name = self.model_names(spec.name or fallback)
        self.models[name] = data
        self._model_by_key[key] = name
        return name

    def reference(self, table: dict[str, dict[str, Any]], names: _Names, index: dict[str, str], ref: str) -> str:
        if ref in index:
            return index[ref]
        from amlforge.specs.references import parse_asset_ref

        parsed = parse_asset_ref(ref)
        name = names(parsed.name if parsed else "asset")
        table[name] = {"reference": ref}
        index[ref] = name
        return name

    def code_folder(self, raw: str, doc_folder: Path) -> str:
        if raw.startswith("azureml:"):
            return self.reference(self.code, self.code_names, self._code_by_key, raw)
        path = self.rebase(doc_folder, raw)
        if path in self._code_by_key:
            return self._code_by_key[path]
        name = self.code_names(_name_from(path, "code"))
        self.code[name] = {"path": path}
        self._code_by_key[path] = name
        return name


def _unsupported(kind: str, spec: Any, where: Any) -> None:
    for field in _UNSUPPORTED[kind]:
        if getattr(spec, field, None) not in (None, {}, []):
            raise UserInputError(f"'{field}' cannot be expressed in amlforge.yaml", where.at(field).location(key=True),
                                 f"remove it from the {kind} file before importing, or keep this {kind} in az-ml YAML")


def import_project(folder: Path | str, *, spec_folder: Path | str | None = None,
                   target: dict[str, Any] | None = None, notes: list[str] | None = None,
                   parameters: Path | None = None) -> ProjectSpec:
    """Convert the az-ml YAML under ``folder`` into a :class:`ProjectSpec`.

    Args:
        folder: Folder (or file) with az-ml endpoint, deployment, environment and model YAML.
        spec_folder: Folder the spec will be written to; paths are made relative to it
            (default: ``folder``).
        target: The spec's ``target`` (workspace, resource group, region, ...).
        notes: Filled with the values left out because they are known only at run time.
        parameters: Parameter values of the templates (ARM parameters JSON, ``.bicepparam``,
            ``.tfvars``), as ``amlforge lint --parameters``.

    Raises:
        UserInputError: unreadable or invalid YAML (with its location), a deployment
            without an endpoint name, or something the spec cannot express.
    """
    from pydantic import ValidationError

    from amlforge.specs.environment import EnvironmentSpec
    from amlforge.specs.loader import LoadOptions, load_project
    from amlforge.specs.model import ModelSpec
    from amlforge.specs.project_spec import SpecError

    source = Path(folder)
    result = load_project([source], LoadOptions(parameters=parameters))
    specs = {d.display for d in result.project.documents if d.kind == "project_spec"}  # an earlier import
    errors = [p for p in result.problems
              if (p.fatal or p.code[:4] in ("AML0", "AML1")) and p.location.file not in specs]
    if errors:
        raise SpecError(errors)
    project = _without_unknown(result.project, notes if notes is not None else [])
    base = Path(os.path.abspath(spec_folder if spec_folder is not None else (source if source.is_dir() else source.parent)))
    imp = _Importer(base)

    for env in sorted(project.environments, key=lambda e: (e.doc.display, e.prefix)):
        if not env.prefix:  # standalone files first, so references find them
            _unsupported("environment", env.spec, env.at())
            name = imp.environment(env.spec, env.doc.path.parent, env.at().location())
            if env.spec.name:
                imp._env_by_key.setdefault(f"azureml:{env.spec.name}:{env.spec.version}", name)
    for model in sorted(project.models, key=lambda m: (m.doc.display, m.prefix)):
        if not model.prefix and model.spec.name:
            _unsupported("model", model.spec, model.at())
            name = imp.model(model.spec, model.doc.path.parent, "model", model.at().location())
            imp._model_by_key.setdefault(f"azureml:{model.spec.name}:{model.spec.version}", name)

    endpoints: dict[str, dict[str, Any]] = {}
    for ep in sorted(project.endpoints, key=lambda e: e.doc.display):
        spec = ep.spec
        _unsupported("endpoint", spec, ep.at())
        data: dict[str, Any] = {}
        if spec.kind == "kubernetes":
            from amlforge.specs.references import parse_compute_ref

            data["kind"] = "kubernetes"
            data["compute"] = parse_compute_ref(spec.compute) or spec.compute
        if spec.description is not None:
            data["description"] = spec.description
        if spec.tags:
            data["tags"] = dict(sorted(spec.tags.items()))
        data["auth_mode"] = spec.auth_mode
        if spec.identity is not None:
            identity: dict[str, Any] = {"type": spec.identity.type}
            if spec.identity.user_assigned_identities:
                identity["user_assigned_identities"] = [{"resource_id": u.resource_id}
                                                        for u in spec.identity.user_assigned_identities]
            data["identity"] = identity
        if spec.kind == "managed" and "public_network_access" in spec.model_fields_set:
            data["public_network_access"] = spec.public_network_access
        data["deployments"] = {}
        if spec.traffic is not None:
            data["traffic"] = dict(sorted(spec.traffic.items()))
        if spec.mirror_traffic is not None:
            data["mirror_traffic"] = dict(sorted(spec.mirror_traffic.items()))
        endpoints[spec.name] = data

    for dep in sorted(project.deployments, key=lambda d: d.doc.display):
        spec = dep.spec
        _unsupported("deployment", spec, dep.at())
        if not spec.name or not spec.endpoint_name:
            raise UserInputError("a deployment without name and endpoint_name cannot be imported",
                                 dep.at().location(), "add name: and endpoint_name:")
        ep_data = endpoints.get(spec.endpoint_name)
        if ep_data is None:
            ep_data = endpoints[spec.endpoint_name] = {"deployments": {}}
            if spec.kind == "kubernetes":
                raise UserInputError(f"no endpoint file for '{spec.endpoint_name}'", dep.at("endpoint_name").location(),
                                     "import the endpoint YAML too: a Kubernetes endpoint needs its compute")
        data = {}
        for field in ("description",):
            if getattr(spec, field) is not None:
                data[field] = getattr(spec, field)
        if spec.tags:
            data["tags"] = dict(sorted(spec.tags.items()))
        folder_of = dep.doc.path.parent
        if isinstance(spec.model, ModelSpec):
            data["model"] = imp.model(spec.model, folder_of, f"{spec.endpoint_name}-model", dep.at("model").location())
        elif isinstance(spec.model, str):
            data["model"] = imp.reference(imp.models, imp.model_names, imp._model_by_key, spec.model)
        if spec.model_mount_path is not None:
            data["model_mount_path"] = spec.model_mount_path
        if isinstance(spec.environment, EnvironmentSpec):
            data["environment"] = imp.environment(spec.environment, folder_of, dep.at("environment").location(),
                                                  f"{spec.endpoint_name}-env")
        elif isinstance(spec.environment, str):
            data["environment"] = imp.reference(imp.environments, imp.env_names, imp._env_by_key, spec.environment)
        if spec.code_configuration is not None:
            if spec.code_configuration.code:
                data["code"] = imp.code_folder(spec.code_configuration.code, folder_of)
            data["scoring_script"] = spec.code_configuration.scoring_script
        for field in ("instance_type", "instance_count"):
            if getattr(spec, field) is not None:
                data[field] = getattr(spec, field)
        if spec.app_insights_enabled:
            data["app_insights_enabled"] = True
        if spec.kind == "managed" and "egress_public_network_access" in spec.model_fields_set:
            data["egress_public_network_access"] = spec.egress_public_network_access
        if spec.environment_variables:
            data["environment_variables"] = dict(sorted(spec.environment_variables.items()))
        for field in ("request_settings", "liveness_probe", "readiness_probe", "startup_probe", "scale_settings"):
            value = getattr(spec, field)
            if value is not None:
                data[field] = value.model_dump(exclude_unset=True, mode="json")
                if field == "scale_settings":
                    data[field] = {"type": value.type, **data[field]}
        if getattr(spec, "resources", None) is not None:
            data["resources"] = spec.resources.model_dump(exclude_unset=True, by_alias=True, mode="json")
        ep_data["deployments"][spec.name] = data

    for name, ep in endpoints.items():
        ep["deployments"] = dict(sorted(ep["deployments"].items()))
        if "traffic" not in ep and "mirror_traffic" not in ep and len(ep["deployments"]) == 1:
            # The az-ml flow gives a lone deployment its traffic with --all-traffic, which no file
            # records. A spec without traffic makes ARM, Bicep and Terraform that reset it to 0 %
            # on every deployment (AML319), so the spec says what the flow does.
            only = next(iter(ep["deployments"]))
            ep["traffic"] = {only: 100}
            if notes is not None:
                notes.append(f"endpoint '{name}' sets no traffic: the spec sends 100 % to '{only}', its only "
                             "deployment, as 'az ml online-deployment create --all-traffic' does")
    if not endpoints:
        raise UserInputError("no online endpoint or deployment found", Location(str(source)),
                             "import the folder that holds your endpoint and deployment YAML")
    raw: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "version": 1,
        "target": target or default_target(),
        "environments": dict(sorted(imp.environments.items())),
        "models": dict(sorted(imp.models.items())),
        "code": dict(sorted(imp.code.items())),
        "endpoints": dict(sorted(endpoints.items())),
    }
    try:
        return ProjectSpec.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5])
        raise UserInputError(f"the imported project is not a valid spec: {problems}", Location(str(source)),
                             "lint the folder (amlforge lint) and fix what it reports, then import again") from None


_NAMES = ("name", "endpoint_name")


def _without_unknown(project: Any, notes: list[str]) -> Any:
    """The project with every value a reader could not know statically left out (and noted);
    a name known only at run time cannot be imported."""
    import copy

    from pydantic import ValidationError

    from amlforge.specs.loader import _collect, _spec_class
    from amlforge.specs.project import Project

    def run_time(doc: Any) -> dict:
        # a YAML placeholder ({{NAME}}, ${VAR}) is imported as written: the spec keeps it
        written = {p.path for p in doc.source.placeholders}
        return {path: why for path, why in doc.source.unknown.items() if path not in written}

    if not any(run_time(doc) for doc in project.documents):
        return project
    clean = Project(root=project.root, profile=project.profile, overlay=project.overlay)
    for doc in project.documents:
        unknown = run_time(doc)
        if unknown and doc.kind in _SPEC_KINDS:
            data = copy.deepcopy(doc.data)
            for path, why in sorted(unknown.items(), key=lambda kv: len(kv[0])):
                where = doc.source.locate(path)
                if path in [(n,) for n in _NAMES] or not path:
                    raise UserInputError(f"{'.'.join(map(str, path)) or 'the document'} is known only at run time "
                                         f"({why})", where,
                                         "write it as a literal or a constant bound once, then import again")
                parent: Any = data
                for part in path[:-1]:
                    parent = parent.get(part) if isinstance(parent, dict) else None
                if isinstance(parent, dict) and path[-1] in parent:
                    del parent[path[-1]]
                    notes.append(f"{where}: {'.'.join(map(str, path))} is known only at run time ({why}); "
                                 "left out of the spec")
            try:
                doc.spec = _spec_class(doc.kind).model_validate(data)
            except ValidationError as e:
                missing = [tuple(err["loc"]) for err in e.errors() if err["type"] == "missing"]
                path, why = next(((p, w) for p, w in unknown.items() if p in missing), next(iter(unknown.items())))
                raise UserInputError(f"{'.'.join(map(str, path))} is known only at run time ({why}), and the spec "
                                     "needs it", doc.source.locate(path),
                                     "write it as a literal or a constant bound once, then import again") from None
            doc.data = data
        clean.documents.append(doc)
        if doc.spec is not None and doc.kind in _SPEC_KINDS:
            _collect(clean, doc)
    return clean


_SPEC_KINDS = ("managed_endpoint", "kubernetes_endpoint", "managed_deployment", "kubernetes_deployment",
               "environment", "model")


def default_target() -> dict[str, Any]:
    """Placeholders for ``target`` when ``amlforge import`` is not told the workspace."""
    return {"workspace": "my-workspace", "resource_group": "my-resource-group", "region": "westeurope"}


__all__ = ["default_target", "import_project"]
