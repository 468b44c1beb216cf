"""Real-world regression suite (issue 13, item 7).

Each folder of ``cases/`` reproduces a layout seen in public repositories (``cases.json`` names
them: repository, commit, path). The suite lints each case as a user would and checks:

- no crash: neither the engine nor the CLI fails (exit 3, or an exception);
- no az-ml file is unreadable (a fatal finding or AML002 at it) or skipped (not classified as
  the kind ``cases.json`` gives);
- azure-ai-ml accepts every az-ml file (with the names ``az ml ... --name/--endpoint-name``
  would pass when the file has none), unless ``cases.json`` says why it does not;
- every error finding carries a written justification in ``justifications.json``
  (``<case>/<path>:<line>:<rule>`` -> why it is a real defect);
- the findings equal the reviewed snapshot ``findings.json`` (``make snapshots`` rebuilds it).

The measured figures on the public files themselves are in bench/realworld/ (not tests).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from amlforge.policies.engine import lint_paths

HERE = Path(__file__).parent
CASES_DIR = HERE / "cases"
SPEC = json.loads((HERE / "cases.json").read_text())["cases"]
SNAPSHOT = HERE / "findings.json"
JUSTIFICATIONS = HERE / "justifications.json"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def _lint(case: str) -> tuple[list[dict], dict[str, str]]:
    """The findings of one case (paths relative to cases/) and the family of each document."""
    folder = CASES_DIR / case
    report = lint_paths([folder], root=folder)
    findings = []
    for f in report.findings:
        d = f.to_dict()
        rel = os.path.relpath(os.path.abspath(d["path"]), CASES_DIR).replace(os.sep, "/")
        findings.append({"rule": d["rule"], "severity": d["severity"], "path": rel, "line": d["line"],
                         "column": d["column"], "message": d["message"], "fatal": f.fatal})
    families = {}
    for doc in report.project.documents if report.project else []:
        rel = os.path.relpath(os.path.abspath(doc.path), folder).replace(os.sep, "/")
        families[rel] = doc.family
    return findings, families


RESULTS = {case: _lint(case) for case in sorted(SPEC)}


def test_every_case_folder_is_described() -> None:
    assert sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir()) == sorted(SPEC)
    for case, spec in SPEC.items():
        assert spec["pattern"] and isinstance(spec["azml"], dict), case  # {} for a case of files that are not az-ml
        for source in spec["modelled_on"]:
            assert source["repo"].count("/") == 1 and len(source["commit"]) == 40 and source["path"], case
        for rel in spec["azml"]:
            assert (CASES_DIR / case / rel).is_file(), f"{case}/{rel}"


@pytest.mark.parametrize("case", sorted(SPEC))
def test_no_azml_file_is_unreadable_or_skipped(case: str) -> None:
    findings, families = RESULTS[case]
    expected = SPEC[case]["azml"]
    unreadable = [f for f in findings if (f["fatal"] or f["rule"] == "AML002")
                  and f["path"].split("/", 1)[1] in expected]
    assert not unreadable, unreadable
    assert {rel: families.get(rel, "skipped") for rel in expected} == expected
    extra = sorted(set(families) - set(expected))
    assert not extra, f"classified as az-ml but not listed in cases.json: {extra}"


def _sdk_load(path: Path, kind: str) -> None:
    aml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is a test dependency: pip install -e '.[test]'")
    warnings.filterwarnings("ignore")
    logging.getLogger("azure").setLevel(logging.CRITICAL)
    data = yaml.safe_load(path.read_text())
    names = {"endpoint": ["name"], "deployment": ["name", "endpoint_name"]}.get(kind, [])
    cli = [{k: f"cli-{k.replace('_', '-')}"} for k in names if k not in data]
    if kind == "endpoint":
        aml.load_online_endpoint(path, params_override=cli)._to_rest_online_endpoint(location="westeurope")
    elif kind == "deployment":
        obj = aml.load_online_deployment(path, params_override=cli)
        obj._to_rest_object(location="westeurope")
        if obj.environment is not None and not isinstance(obj.environment, str):
            obj.environment.validate()
    elif kind == "environment":
        aml.load_environment(path).validate()
    else:
        aml.load_model(path)


@pytest.mark.parametrize(("case", "rel"), [(c, r) for c in sorted(SPEC) for r in SPEC[c]["azml"]],
                         ids=[f"{c}/{r}" for c in sorted(SPEC) for r in SPEC[c]["azml"]])
def test_azure_ai_ml_accepts_the_azml_files(case: str, rel: str) -> None:
    kind = SPEC[case]["azml"][rel]
    reason = SPEC[case].get("sdk_rejects", {}).get(rel)
    if reason is None:
        _sdk_load(CASES_DIR / case / rel, kind)
    else:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK raises several types
            _sdk_load(CASES_DIR / case / rel, kind)


def test_cli_never_crashes_on_the_cases() -> None:
    proc = subprocess.run([sys.executable, "-m", "amlforge", "lint", str(CASES_DIR), "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert isinstance(json.loads(proc.stdout), list)


def _snapshot_form() -> list[dict[str, Any]]:
    out = []
    for case in sorted(RESULTS):
        out.extend({k: v for k, v in f.items() if k != "fatal"} for f in RESULTS[case][0])
    return sorted(out, key=lambda f: (f["path"], f["line"], f["column"], f["rule"], f["message"]))


def test_findings_match_the_reviewed_snapshot() -> None:
    found = _snapshot_form()
    if UPDATE:
        SNAPSHOT.write_text(json.dumps(found, indent=1) + "\n")
    assert found == json.loads(SNAPSHOT.read_text()), "review the difference, then run make snapshots"


def test_every_error_is_justified() -> None:
    justified = json.loads(JUSTIFICATIONS.read_text())
    errors = {f"{f['path']}:{f['line']}:{f['rule']}" for f in _snapshot_form() if f["severity"] == "error"}
    missing = sorted(k for k in errors if not str(justified.get(k, "")).strip() or justified[k] == "TODO")
    assert not missing, f"error findings without a written justification: {missing}"
    stale = sorted(set(justified) - errors)
    assert not stale, f"justifications for findings that no longer occur: {stale}"
