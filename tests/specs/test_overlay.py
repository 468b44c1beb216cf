"""The in-memory overlay that lets ``amlforge generate`` lint its output before writing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.specs.loader import LoadOptions, load_project
from amlforge.specs.overlay import Overlay

ENDPOINT = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: ovl-ep\nauth_mode: key\n"
ENVIRONMENT = ("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: env\nversion: '1'\n"
               "build:\n  path: ../docker/env\n")


def test_owned_folders_hold_only_the_overlay_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "azureml").mkdir(parents=True)
    (out / "azureml" / "stale.yml").write_text("endpoint_name: [broken\n")  # on disk, but not after the write
    (out / "docker" / "env").mkdir(parents=True)
    (out / "docker" / "env" / "Dockerfile").write_text("FROM scratch\n")  # on disk, not in the overlay
    overlay = Overlay({out / "azureml" / "ep.yml": ENDPOINT, out / "azureml" / "env.yml": ENVIRONMENT,
                       out / "docker" / "env" / ".dockerignore": "*\n"}, [out / "azureml", out / "docker"])
    assert overlay.is_dir(out / "azureml") and overlay.is_dir(out / "docker")
    assert overlay.exists(out / "azureml" / "ep.yml") and not overlay.is_dir(out / "azureml" / "ep.yml")
    assert not overlay.exists(out / "docker" / "env" / "Dockerfile")
    assert overlay.covers(out / "docker" / "env" / "Dockerfile") and not overlay.covers(out / "arm")
    assert overlay.files_under(out / "azureml") == [out / "azureml" / "env.yml", out / "azureml" / "ep.yml"]

    result = load_project([out / "azureml"], LoadOptions(root=tmp_path, overlay=overlay))
    assert [d.path.name for d in result.project.documents] == ["env.yml", "ep.yml"]
    assert result.problems == []  # stale.yml on disk was not read

    report = lint_paths([out / "azureml"], root=tmp_path, overlay=overlay)
    # the build context exists (in memory), the Dockerfile on disk does not count
    assert [(f.rule, Path(f.location.file).name) for f in report.findings if f.severity.value == "error"] == \
        [("AML415", "env.yml")], [str(f) for f in report.findings]

    with_dockerfile = Overlay({**{out / "azureml" / "env.yml": ENVIRONMENT},
                               out / "docker" / "env" / "Dockerfile": "FROM x\n"}, [out / "azureml", out / "docker"])
    assert not [f for f in lint_paths([out / "azureml"], root=tmp_path, overlay=with_dockerfile).findings
                if f.severity.value == "error"]


def test_a_broken_overlay_file_is_reported_not_skipped(tmp_path: Path) -> None:
    overlay = Overlay({tmp_path / "azureml" / "ep.yml": "name: [x\n"}, [tmp_path / "azureml"])
    report = lint_paths([tmp_path / "azureml"], root=tmp_path, overlay=overlay)
    assert report.exit_code == 1
    assert [f.rule for f in report.findings] == ["AML002"]
    assert report.findings[0].location.file.endswith("azureml/ep.yml")


def test_files_must_sit_below_an_owned_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        Overlay({tmp_path / "elsewhere.yml": ""}, [tmp_path / "azureml"])
