"""SARIF output is valid against the official SARIF 2.1.0 schema and carries the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from amlforge.policies.registry import load_catalog
from amlforge.reporters import render
from amlforge.reporters.sarif_report import artifact_uri, to_sarif
from tests.conftest import ROOT, run_cli
from tests.reporters._report import synthetic_report

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
PROJECT = Path(__file__).parent / "project"


def _validate(log: dict) -> None:
    validator = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_schema_is_the_official_one() -> None:
    assert SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    Draft4Validator.check_schema(SCHEMA)


def test_synthetic_report_is_valid_sarif() -> None:
    log = json.loads(render(synthetic_report(), "sarif"))
    _validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "amlforge" and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in load_catalog()]
    levels = [r["level"] for r in run["results"]]
    assert levels == ["error", "error", "error", "warning", "note"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first = run["results"][0]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/score.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 6, "startColumn": 1}
    assert "region" not in run["results"][4]["locations"][0]["physicalLocation"]  # line unknown
    # the two identical findings get distinct, stable fingerprints
    prints = [r["partialFingerprints"]["amlforge/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)
    again = to_sarif(synthetic_report())["runs"][0]["results"]
    assert prints == [r["partialFingerprints"]["amlforge/v1"] for r in again]


def test_rule_metadata() -> None:
    log = to_sarif(synthetic_report())
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "AML505")
    assert rule["name"] == "import-not-in-environment"
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["prevents"] == ["ResourceNotReady", "UserScriptImportError"]
    assert "ResourceNotReady" in rule["properties"]["tags"]
    assert rule["helpUri"].endswith("#aml505-import-not-in-environment")
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]


@pytest.mark.parametrize(("file", "uri"), [
    ("a/b c.yml", "a/b%20c.yml"),
    ("a,b:c.yml", "a%2Cb%3Ac.yml"),
])
def test_uris_are_relative_and_encoded(file: str, uri: str) -> None:
    assert artifact_uri(file) == (uri, "%SRCROOT%")


def test_cli_sarif_end_to_end() -> None:
    sarif = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "sarif")
    plain = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "json")
    assert sarif.returncode == plain.returncode == 1, sarif.stderr
    log = json.loads(sarif.stdout)
    _validate(log)
    findings = json.loads(plain.stdout)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == \
        [(f["rule"], f["line"]) for f in findings]
    assert {"AML503", "AML505"} <= {r["ruleId"] for r in results}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "tests/reporters/project/onlinescoring/score.py" in uris
