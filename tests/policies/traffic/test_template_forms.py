"""One template in several forms in one run (the ARM, Bicep and Terraform that ``amlforge
generate`` writes side by side): each form is its own template, paired with its own endpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import ROOT, run_cli


def test_each_form_of_a_template_gets_its_own_traffic_warning(tmp_path: Path) -> None:
    spec = tmp_path / "gpu-pytorch" / "amlforge.yaml"
    shutil.copytree(ROOT / "examples" / "gpu-pytorch", spec.parent)
    without = spec.read_text().replace("    traffic:\n      t4-dev: 100\n", "")
    assert without != spec.read_text()
    spec.write_text(without)  # a spec without a traffic plan (AML319 reports the spec itself too)
    out = tmp_path / "out"
    done = run_cli("generate", str(spec), "-o", str(out), "--only", "arm,bicep")
    assert done.returncode == 0, done.stdout + done.stderr
    run = run_cli("lint", ".", "--output-format", "json", cwd=out)  # one project: both forms in one run
    found = [f for f in json.loads(run.stdout) if f["rule"] == "AML319"]
    # the spec sets no traffic, so each form resets t4-dev's traffic on every deployment of it
    assert sorted(Path(f["path"]).parent.name for f in found) == ["arm", "bicep"], run.stdout
    for f in found:
        assert "resets the traffic of t4-dev to 0 %" in f["message"], f  # once, not 't4-dev, t4-dev'
