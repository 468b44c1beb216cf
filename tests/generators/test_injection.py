"""Injection: values with quotes, line breaks, ``${``, ``'``, ``#``, ``\\`` and friends are either
rejected by the spec with a located error, or escaped so that every oracle still parses every
file and reads the value back unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from amlforge.generators.pipeline import generate_project
from amlforge.specs.project_spec import SpecError, load_spec
from tests.generators.oracles import check_all

NASTY = [
    "it's", 'say "hi"', "${HOME}", "$(id)", "`id`", "a #b", "#start", "back\\slash", "trailing\\", "[x]",
    "[parameters('x')]", "[[x]", "a: b", "- x", "? x", "yes", "null", "1.0", "0x1F", "2024-01-01", "~", "@at",
    "*ref", "&anchor", "!tag", "%s %d", "{x}", "{0}", "'", '"', "#", "\\", "${", "'${'", "${{azureml://connections/c/credentials/key}}",
    "ünïcødé ☃ 𝄞", "  padded  ", "", "<script>", "a\u200bb", "x'; DROP TABLE y; --",
]
#: Characters a folder name may hold here: everything but '/', '\\' and control characters.
WEIRD_DIR = "dir 'q' \"d\" #h ${x} [b] $(y) ü"


def _tree(root: Path, spec: dict[str, Any]) -> Path:
    env_dir = root / WEIRD_DIR
    (env_dir / "src").mkdir(parents=True)
    (env_dir / "model").mkdir()
    (env_dir / "model" / "model.json").write_text("{}")
    (env_dir / "src" / "score 'x' #1.py").write_text(
        "import json\nimport os\n\n\ndef init():\n    os.getenv('AZUREML_MODEL_DIR')\n\n\ndef run(raw):\n"
        "    return json.loads(raw)\n")
    (env_dir / "conda 'q' #1.yaml").write_text(
        "name: weird\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11.9\n  - pip=24.2\n  - pip:\n"
        "      - azureml-inference-server-http==1.5.1\n")
    (env_dir / "ctx").mkdir()
    (env_dir / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    (root / "pyproject.toml").write_text("")
    path = root / "amlforge.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    return path


def nasty_spec() -> dict[str, Any]:
    tags = {f"tag-{i}": v for i, v in enumerate(NASTY) if len(v) <= 256}
    tags.update({k: "key test" for k in ("it's #1", 'say "hi"', "${HOME}", "[x]", "a: b", "ü ☃", "- x")})
    env_vars = {f"V_{i}": v for i, v in enumerate(NASTY)}
    description = "\n".join(NASTY) + "\nline breaks are fine here\n\ttabs too"
    image = "mcr.microsoft.com/azureml/minimal-py312-inference:20260715.v1"
    deployment = {
        "description": description, "tags": tags, "model": "m", "environment": "image-env", "code": "c",
        "scoring_script": "score 'x' #1.py", "instance_type": "Standard_D4as_v4", "instance_count": 3,
        "environment_variables": {**env_vars, "WORKER_COUNT": "1"},
    }
    return {
        "version": 1,
        "target": {"workspace": "ws-x", "resource_group": "rg-(x).y_z", "region": "westeurope"},
        "environments": {
            "image-env": {"description": description, "tags": tags, "image": image,
                          "conda_file": f"{WEIRD_DIR}/conda 'q' #1.yaml"},
            "baked": {"image": image, "conda_file": f"{WEIRD_DIR}/conda 'q' #1.yaml", "dockerfile": True},
            "byoc": {"build": {"path": f"{WEIRD_DIR}/ctx"}, "inference_config": {
                "liveness_route": {"port": 8080, "path": "/health/it's #live"},
                "readiness_route": {"port": 8080, "path": "/ready?x=${y}"},
                "scoring_route": {"port": 8080, "path": '/score/"q"'}}},
        },
        # a trailing line break once came out as a plain scalar, and YAML dropped it
        "models": {"m": {"description": "one trailing line break\n", "tags": tags, "path": f"{WEIRD_DIR}/model"}},
        "code": {"c": {"description": description, "path": f"{WEIRD_DIR}/src"}},
        "endpoints": {"nasty-ep": {
            "description": description, "tags": tags,
            "deployments": {"blue": deployment, "green": {**deployment, "environment": "baked"},
                            "byoc": {"model": "m", "environment": "byoc", "model_mount_path": "/var/it's #model",
                                     "instance_type": "Standard_D4as_v4", "instance_count": 3,
                                     "environment_variables": {"WORKER_COUNT": "1"}}},
            "traffic": {"blue": 100, "green": 0, "byoc": 0},
        }},
    }


def test_escaped_values_survive_every_oracle(tmp_path: Path) -> None:
    spec_path = _tree(tmp_path / "project", nasty_spec())
    out = tmp_path / "project" / "generated"
    result = generate_project(spec_path, out)
    assert not result.refused, [f"{f.location} {f.rule} {f.message}" for f in result.findings]
    loaded = load_spec(spec_path)
    check_all(out, loaded, result.files)
    # the values really are the nasty ones (the oracles compared them with the spec)
    spec = loaded.spec
    assert spec.endpoints["nasty-ep"].deployments["blue"].environment_variables["V_7"] == "back\\slash"
    assert spec.models["m"].tags["tag-10"] == "[parameters('x')]"
    from dockerfile_parse import DockerfileParser

    parsed = DockerfileParser(str(out / "docker" / "baked" / "Dockerfile"))
    assert parsed.envs["AZUREML_ENTRY_SCRIPT"] == "src/score 'x' #1.py"


@pytest.mark.parametrize(("where", "value", "message"), [
    (("endpoints", "nasty-ep", "tags", "t"), "two\nlines", "line break"),
    (("endpoints", "nasty-ep", "deployments", "blue", "environment_variables", "X"), "a\rb", "carriage return"),
    (("endpoints", "nasty-ep", "deployments", "blue", "environment_variables", "X"), "a\x00b", "U+0000"),
    (("endpoints", "nasty-ep", "deployments", "blue", "environment_variables", "X"), "{{ TOKEN }}", "placeholder"),
    (("endpoints", "nasty-ep", "deployments", "blue", "environment_variables", "BAD-NAME"), "x", "environment variable name"),
    (("endpoints", "nasty-ep", "deployments", "blue", "scoring_script"), "../score.py", "leaves its folder"),
    (("endpoints", "nasty-ep", "deployments", "blue", "scoring_script"), "a\\score.py", "backslash"),
    (("models", "m", "path"), "model\nx", "line break"),
    (("models", "m", "path"), "C:/model", "absolute"),
    (("models", "m", "path"), "azureml://datastores/x/paths/a b", "percent-encoded"),
    (("models", "m", "description"), "bell\x07", "U+0007"),
    (("environments", "image-env", "image"), "mcr.microsoft.com/x:1\nRUN id", "line break"),
    (("environments", "image-env", "image"), "mcr.microsoft.com/x:1 AS y", "not valid"),
    (("environments", "image-env", "tags", "a/b"), "x", "tag name"),
    (("endpoints", "nasty-ep", "deployments", "blue", "instance_type"), "Standard'; x", "instance type"),
    (("target", "workspace"), "ws'x", "workspace name"),
    (("endpoints", "nasty-ep", "deployments", "blue", "model_mount_path"), "relative/path", "absolute Linux path"),
    (("environments", "byoc", "inference_config", "scoring_route", "path"), "score", "absolute URL path"),
    (("models", "m", "version"), "1 2", "version"),
])
def test_unsafe_values_are_rejected_where_they_are(tmp_path: Path, where: tuple[str, ...], value: str,
                                                   message: str) -> None:
    spec = nasty_spec()
    target: Any = spec
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = _tree(tmp_path, spec)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    first = info.value.problems[0]
    assert message in first.message, first
    assert first.location.line > 1 and first.hint


def test_bicep_keys_that_are_keywords_are_quoted() -> None:
    """Found by hypothesis in a fresh CI run: a tag called `null` made the Bicep unparseable."""
    from amlforge.generators._render import bicep_key

    assert bicep_key("team") == "team" and bicep_key("type") == "type"
    for word in ("null", "true", "false", "if", "for", "0", "a-b", "x y"):
        assert bicep_key(word).startswith("'"), word
