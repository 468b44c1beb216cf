"""Small slips found by trying amlforge as a new user (issue 14, item 9): each message says
what is wrong in the user's terms, at the right place, with a hint."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest

from amlforge.policies.registry import load_catalog
from tests.conftest import ROOT, run_cli

ENDPOINT = ("$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
            "name: my-endpoint\nauth_mode: key\n")


@pytest.fixture
def spec_project(tmp_path: Path) -> Path:
    """A starter project of ``amlforge init`` (it generates and lints clean)."""
    result = run_cli("init", str(tmp_path / "proj"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "proj"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_unsupported_spec_version_names_the_supported_one(spec_project: Path) -> None:
    _edit(spec_project / "amlforge.yaml", "\nversion: 1\n", "\nversion: 7\n")
    result = run_cli("lint", "amlforge.yaml", cwd=spec_project)
    assert result.returncode == 1
    first, hint = result.stdout.splitlines()[:2]
    assert first == "amlforge.yaml:6:10: error AML104 'version' is 7, expected 1"
    assert "write 'version: 1'" in hint


def test_empty_deployments_is_said_in_the_specs_terms(spec_project: Path) -> None:
    spec = spec_project / "amlforge.yaml"
    text = spec.read_text()
    start = text.index("    deployments:\n")
    end = text.index("\n    traffic:") if "\n    traffic:" in text else len(text)
    spec.write_text(text[:start] + "    deployments: {}" + text[end:])
    result = run_cli("lint", "amlforge.yaml", cwd=spec_project)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "dictionary should have" not in result.stdout + result.stderr
    assert re.search(r"amlforge\.yaml:\d+:\d+: error AML104 'endpoints\.[\w-]+\.deployments' is empty; "
                     r"it needs at least 1 entry", result.stdout), result.stdout
    assert "hint: add at least 1 entry under 'deployments'" in result.stdout


def test_refused_generate_reports_at_the_spec_lines(spec_project: Path) -> None:
    spec = spec_project / "amlforge.yaml"
    _edit(spec, "request_timeout_ms: 5000", "request_timeout_ms: 999999")
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if "999999" in text)
    result = run_cli("generate", "amlforge.yaml", "-o", "out", cwd=spec_project)
    assert result.returncode == 1
    assert not (spec_project / "out").exists()
    findings = [x for x in result.stdout.splitlines() if not x.startswith("  ")]
    assert findings and all(x.startswith("amlforge.yaml:") for x in findings), result.stdout
    assert any(x.startswith(f"amlforge.yaml:{line}:") and "AML306" in x for x in findings), result.stdout
    # the same place as lint reports
    lint = run_cli("lint", "amlforge.yaml", cwd=spec_project)
    assert any(x.startswith(f"amlforge.yaml:{line}:") and "AML306" in x for x in lint.stdout.splitlines())


def test_rules_with_an_unknown_area_exits_2_with_a_suggestion() -> None:
    result = run_cli("rules", "--area", "trafic")
    assert result.returncode == 2
    assert "'trafic' is not an area" in result.stderr and "did you mean 'traffic'?" in result.stderr
    assert run_cli("rules", "--area", "traffic").returncode == 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_with_a_bom_are_read(tmp_path: Path, codec: str) -> None:
    data = ENDPOINT.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    (tmp_path / "endpoint.yml").write_bytes(data)
    result = run_cli("lint", "--format", "json", "endpoint.yml", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr + result.stdout
    assert all(f["rule"] != "AML001" for f in json.loads(result.stdout))
    # found in a folder too, not skipped
    folder = run_cli("lint", ".", cwd=tmp_path)
    assert "no az-ml" not in folder.stderr and folder.returncode in (0, 1), folder.stderr


def test_utf16_without_a_bom_is_said_plainly(tmp_path: Path) -> None:
    (tmp_path / "endpoint.yml").write_bytes(ENDPOINT.encode("utf-16-le"))
    result = run_cli("lint", "endpoint.yml", cwd=tmp_path)
    assert result.returncode == 1  # a file that cannot be read is a finding (AML001)
    assert "UTF-16 text without a byte-order mark" in result.stdout and "binary" not in result.stdout
    assert "hint: save the file as UTF-8" in result.stdout


def test_symlink_to_itself_is_called_a_loop(tmp_path: Path) -> None:
    os.symlink("self.yml", tmp_path / "self.yml")
    os.symlink("missing.yml", tmp_path / "dangling.yml")
    result = run_cli("lint", "self.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert "self.yml: error: symbolic link that loops" in result.stderr and "no such file" not in result.stderr
    result = run_cli("lint", "dangling.yml", cwd=tmp_path)
    assert result.returncode == 2 and "symbolic link to 'missing.yml', which does not exist" in result.stderr


def test_large_file_without_anchors_gets_no_alias_bomb_hint(tmp_path: Path) -> None:
    (tmp_path / "big.yml").write_text("name: x\nitems:\n" + "".join(f"  - {i}\n" for i in range(100_500)))
    result = run_cli("lint", "big.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert "alias" not in result.stdout and "has more than 100,000 values" in result.stdout
    bomb = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcd", "bcde"))
    (tmp_path / "bomb.yml").write_text(bomb)
    result = run_cli("lint", "bomb.yml", cwd=tmp_path)
    assert result.returncode == 1 and "alias bomb" in result.stdout


def test_summary_counts_the_files_findings_sit_in() -> None:
    result = run_cli("lint", "--format", "json", "examples/broken")
    files = {f["path"] for f in json.loads(result.stdout)}
    assert len(files) > 3  # conda files and score.py besides the YAML documents
    text = [line for line in run_cli("lint", "examples/broken").stdout.splitlines() if line.startswith("Found ")][-1]
    assert text.endswith(f"in {len(files)} files."), text


def test_summary_keeps_the_baseline_count_when_all_pass(tmp_path: Path) -> None:
    (tmp_path / "blue.yml").write_text("name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\n"
                                       "environment: azureml:e:1\ninstance_type: Standard_D4as_v4\n"
                                       "instance_count: 3\ninstance_count: 3\n")
    assert run_cli("lint", "--write-baseline", "base.json", ".", cwd=tmp_path).returncode == 0
    result = run_cli("lint", "--baseline", "base.json", "--select", "AML1", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert re.fullmatch(r"All checks passed: 1 file, \d+ rules \(\d+ in baseline\)\.", result.stdout.strip())


def test_init_next_line_is_shell_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "my project's"
    result = run_cli("init", str(folder))
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("next: "))
    argv = shlex.split(line[len("next: "):])
    assert argv == ["amlforge", "generate", str(folder / "amlforge.yaml"), "-o", str(folder / "generated")]


def test_docs_and_help_cite_public_documents() -> None:
    """Rule docs (amlforge explain, docs/rules.md) and the docs cite public pages, not the
    team's internal reference or files that are not in the repository."""
    for r in load_catalog():
        assert "§" not in r.doc and "shared/" not in r.doc, f"{r.id} cites an internal reference section"
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[Rr]eference §|shared/reference", text), f"{path} cites the internal reference"
        prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))
        for target in re.findall(r"\]\((?!https?:|#|mailto:)([^)#\s]+)", prose):
            assert (path.parent / target).exists(), f"{path.name} links to {target}, which is not in the repository"


def test_unknown_command_suggests_the_close_one() -> None:
    result = run_cli("lnt")
    assert result.returncode == 2
    assert "No such command 'lnt'. Did you mean 'lint'?" in result.stderr
