"""Where a deployment's model appears under ``AZUREML_MODEL_DIR``, for local model paths."""

from __future__ import annotations

from amlforge.policies.scoring._model_paths import ModelLayout
from amlforge.specs.deployment import OnlineDeploymentBase
from amlforge.specs.model import ModelSpec
from amlforge.specs.project import Loaded, Project, is_local_path


def model_layout(project: Project, dep: Loaded[OnlineDeploymentBase]) -> ModelLayout | None:
    """The layout of ``dep``'s model, when it is a local file or folder amlforge can see.

    A folder ``./model`` is uploaded with its name: its files appear as
    ``$AZUREML_MODEL_DIR/model/...``; a single file ``./model.pkl`` appears as
    ``$AZUREML_MODEL_DIR/model.pkl``. Registered models that are not part of the project,
    custom ``model_mount_path`` values and archives unpacked by the service are skipped.
    """
    if dep.spec.model_mount_path:
        return None
    model = dep.spec.model
    owner: Loaded | None = None
    if isinstance(model, ModelSpec):
        owner = Loaded(model, dep.doc, ("model",))
    elif isinstance(model, str):
        from amlforge.specs.references import parse_asset_ref

        ref = parse_asset_ref(model)
        if ref is None or ref.registry:
            return None
        found = [m for m in project.models if m.doc is not dep.doc and m.spec.name == ref.name
                 and (ref.version is None or str(m.spec.version) == ref.version)]
        if len(found) != 1:
            return None
        owner = found[0]
    if owner is None:
        return None
    spec: ModelSpec = owner.spec
    if not spec.path or not is_local_path(spec.path):
        return None
    if spec.properties and any(str(k).lower() == "azureml.unpack" for k in spec.properties):
        return None
    resolved = project.local_path(owner, spec.path)
    if not resolved.exists:
        return None  # AML106
    return ModelLayout(spec.path, resolved.path.name, str(resolved.path), resolved.is_dir)


__all__ = ["model_layout"]
