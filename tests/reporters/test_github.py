"""GitHub workflow commands: one annotation per finding, escaped as the Actions toolkit does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amlforge.reporters import render
from amlforge.reporters.github_report import escape_data, escape_property
from tests.conftest import ROOT, run_cli
from tests.reporters._report import synthetic_report

PROJECT = Path(__file__).parent / "project"


@pytest.mark.parametrize(("raw", "data", "prop"), [
    ("plain", "plain", "plain"),
    ("100%", "100%25", "100%25"),
    ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
    ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
    ("%0A", "%250A", "%250A"),  # an already-escaped-looking text stays literal
])
def test_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_commands() -> None:
    lines = render(synthetic_report(), "github").splitlines()
    assert lines[0] == ("::error file=src/score.py,line=6,col=1,title=AML505 import-not-in-environment::"
                        "'lightgbm' is imported, but <env> & \"conda\" does not install it%0Ahint: add lightgbm==4.5.0")
    assert lines[3].startswith("::warning file=dir with space/a%2Cb%3Ac.yml,line=3,col=7,title=AML507 ")
    # control characters of user text are escaped before GitHub's own escaping (no raw CR/LF/NUL)
    assert lines[3].endswith("::100%25 of requests\\r\\nreload the model\\x00")
    assert lines[4] == "::notice file=blue.yml,title=AML109 deploy-time-value::no name"
    assert not lines[-1].startswith("::")  # the summary is plain log output
    assert all("\n" not in line for line in lines)


def test_cli_github_end_to_end() -> None:
    gh = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "github")
    plain = run_cli("lint", str(PROJECT.relative_to(ROOT)), "--format", "json")
    assert gh.returncode == plain.returncode == 1, gh.stderr
    findings = json.loads(plain.stdout)
    commands = [line for line in gh.stdout.splitlines() if line.startswith("::")]
    assert len(commands) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "notice"}
    for line, f in zip(commands, findings, strict=True):
        assert line.startswith(f"::{levels[f['severity']]} file={f['path']},line={f['line']},col={f['column']},"
                               f"title={f['rule']} ")
