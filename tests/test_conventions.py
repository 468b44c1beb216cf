"""Terminal and CI conventions (issue 14, item 6): colour, several reports in one run, quiet
levels, --exit-zero, review's GitHub/JUnit output, the Azure SDK's log noise, smoke's refusals
and progress, and one rule count everywhere."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from amlforge.policies.registry import load_catalog
from tests.conftest import ROOT, run_cli

BROKEN = "examples/broken"
ESC = "\x1b["


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The CLI with exactly the colour variables given (run_cli sets NO_COLOR)."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "AMLFORGE_DEBUG")}
    return subprocess.run([sys.executable, "-m", "amlforge", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=120)


def _run_on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """The CLI with its standard output on a real pseudo-terminal, as a person runs it."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "AMLFORGE_DEBUG")}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "amlforge", *args], cwd=ROOT, stdout=follower,
                            stderr=subprocess.DEVNULL, env={**base, **(env or {})})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_a_terminal_by_default() -> None:
    on_terminal = _run_on_a_terminal("lint", BROKEN)
    assert ESC in on_terminal
    # only severities and rule IDs are coloured: the rest of each line is plain
    first = next(line for line in on_terminal.splitlines() if "AML" in line)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", first)
    assert re.match(r"examples/broken/\S+:\d+:\d+: (error|warning|info) AML\d{3} ", plain)
    assert first.startswith(plain.split(": ")[0] + ":")  # the location is not coloured
    piped = _run("lint", BROKEN)
    assert ESC not in piped.stdout and piped.returncode == 1


def test_no_color_force_color_and_the_option() -> None:
    assert ESC not in _run_on_a_terminal("lint", BROKEN, env={"NO_COLOR": "1"})
    assert ESC in _run("lint", BROKEN, env={"FORCE_COLOR": "1"}).stdout
    assert ESC in _run("lint", "--color", "always", BROKEN, env={"NO_COLOR": "1"}).stdout
    assert ESC not in _run_on_a_terminal("lint", "--color", "never", BROKEN, env={"FORCE_COLOR": "1"})
    # machine formats and files are never coloured
    assert ESC not in _run("lint", "--format", "json", "--color", "always", BROKEN).stdout
    assert _run("lint", "--color", "sometimes", BROKEN).returncode == 2


def test_exit_zero_keeps_usage_errors_at_2(tmp_path: Path) -> None:
    result = run_cli("lint", "--exit-zero", BROKEN)
    assert result.returncode == 0 and any(line.startswith("Found ") for line in result.stdout.splitlines()[-2:])
    (tmp_path / "bad.yml").write_text("name: [unclosed\n")
    assert run_cli("lint", "bad.yml", cwd=tmp_path).returncode == 1  # a file that does not parse is a finding
    assert run_cli("lint", "--exit-zero", "bad.yml", cwd=tmp_path).returncode == 0
    assert run_cli("lint", "--exit-zero", "missing.yml", cwd=tmp_path).returncode == 2


def test_several_reports_in_one_run(tmp_path: Path) -> None:
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    result = run_cli("lint", BROKEN, "--output-format", "text", "--output-format", f"sarif={sarif}",
                     "--output-format", f"junit={junit}")
    assert result.returncode == 1
    summary = [line for line in result.stdout.splitlines() if line.startswith("Found ")]  # then the [*] fixable line
    assert summary
    doc = json.loads(sarif.read_text())
    assert len(doc["runs"][0]["results"]) == len(re.findall(r"^\S+:\d+:\d+: ", result.stdout, re.M))
    findings = json.loads(run_cli("lint", "--format", "json", BROKEN).stdout)
    failing = sum(1 for f in findings if f["severity"] in ("error", "warning"))  # at --fail-on warning
    assert int(ET.parse(junit).getroot().get("failures")) == failing > 0
    # --format is an alias, and -o takes the report without a path
    out = tmp_path / "r.json"
    result = run_cli("lint", BROKEN, "--format", "json", "-o", str(out), "--output-format", f"github={tmp_path / 'g'}")
    assert result.stdout == "" and json.loads(out.read_text())
    assert (tmp_path / "g").read_text().startswith("::")


def test_two_reports_for_standard_output_or_an_unknown_format_exit_2() -> None:
    result = run_cli("lint", BROKEN, "--format", "json", "--format", "sarif")
    assert result.returncode == 2 and "would all go to standard output" in result.stderr
    assert "--output-format sarif=report.sarif" in result.stderr
    result = run_cli("lint", BROKEN, "--output-format", "jsno")
    assert result.returncode == 2 and "did you mean 'json'?" in result.stderr


def test_quiet_levels(tmp_path: Path) -> None:
    loud = run_cli("lint", BROKEN).stdout.splitlines()
    quiet = run_cli("lint", "-q", BROKEN)
    summary = next(i for i, line in enumerate(loud) if line.startswith("Found "))
    assert quiet.returncode == 1 and quiet.stdout.splitlines() == loud[:summary]  # no summary, nor its [*] line
    out = tmp_path / "r.json"
    silent = run_cli("lint", "-qq", BROKEN, "--output-format", "text", "--output-format", f"json={out}")
    assert silent.returncode == 1 and silent.stdout == "" and silent.stderr == ""
    assert json.loads(out.read_text())  # reports given a path are still written


def test_review_writes_github_and_junit(tmp_path: Path) -> None:
    from tests.review._repo import Repo
    from tests.review.test_git_review import CONDA, ENDPOINT, deployment

    repo = Repo(tmp_path / "shop")
    repo.write("endpoint.yml", ENDPOINT)
    repo.write("blue.yml", deployment("blue"))
    repo.write("green.yml", deployment("green", model=4))
    repo.write("conda.yaml", CONDA)
    repo.commit("base")
    repo.write("endpoint.yml", ENDPOINT.replace("blue: 90", "blue: 40").replace("green: 10", "green: 60"))
    junit = tmp_path / "review.xml"
    result = run_cli("review", "--base", "main", "--format", "github", "--output-format", f"junit={junit}",
                     cwd=repo.path)
    assert result.returncode == 1, result.stdout + result.stderr
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations and all(re.match(r"::(error|warning|notice) file=endpoint\.yml,line=\d+", a) for a in annotations)
    assert "risky change" in result.stdout.splitlines()[-1]
    root = ET.parse(junit).getroot()
    assert root.get("name") == "amlforge review" and int(root.get("tests")) == len(annotations)


@pytest.mark.parametrize(("verbose", "shown"), [(0, False), (1, True)])
def test_azure_sdk_log_lines_only_with_verbose(verbose: int, shown: bool) -> None:
    """What DefaultAzureCredential writes when it fails (a WARNING on azure.identity) reaches
    stderr only with -v: the CLI's -v callback configures the SDK's loggers."""
    code = (
        "import logging, click\n"
        "from amlforge.cli._common import verbose_option\n"
        "@click.command()\n@verbose_option\ndef cmd():\n"
        "    logging.getLogger('azure.identity._credentials.chained').warning('EnvironmentCredential.get_token failed')\n"
        "    logging.getLogger('azure.core.pipeline').warning('retrying')\n"
        f"cmd({['-v'] * verbose!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert ("EnvironmentCredential.get_token failed" in result.stderr) is shown
    assert ("retrying" in result.stderr) is shown


def test_azure_commands_accept_verbose() -> None:
    for args in (["azure", "validate", "--help"], ["quota", "--help"]):
        assert "-v, --verbose" in run_cli(*args).stdout


def test_smoke_refuses_a_registered_environment_up_front(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return 1\n")
    (tmp_path / "blue.yml").write_text(
        "name: blue\nendpoint_name: ep\nmodel: azureml:m:1\nenvironment: azureml:my-env:3\n"
        "code_configuration:\n  code: code\n  scoring_script: score.py\n"
        "instance_type: Standard_D4as_v4\ninstance_count: 1\n")
    result = run_cli("smoke", "blue.yml", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    assert result.returncode == 2
    assert "blue.yml:4:14: environment azureml:my-env:3 is registered in Azure" in result.stderr
    assert "hint: pass --python" in result.stderr and "ResourceNotReady" not in result.stdout
    assert not (tmp_path / "cache").exists()  # nothing was built
    data = json.loads(run_cli("smoke", "blue.yml", "--format", "json", cwd=tmp_path).stdout)
    assert data["ok"] is False and data["stage"] == "input"


def test_environment_build_reports_progress(tmp_path: Path) -> None:
    """A long pip run is reported step by step, and at least every few seconds."""
    from amlforge.integrations.inference_server.environment import _run_logged

    script = ("import time\nprint('Collecting scikit-learn==1.5.2', flush=True)\ntime.sleep(1.5)\n"
              "print('noise', flush=True)\ntime.sleep(1.5)\nprint('Installing collected packages: scikit-learn', flush=True)\n"
              "time.sleep(1.5)\n")
    events: list[str] = []
    rc = _run_logged([sys.executable, "-c", script], tmp_path / "pip.log", 60, on_event=events.append, every_s=1.0)
    assert rc == 0
    assert "  pip: Collecting scikit-learn==1.5.2" in events
    assert "  pip: Installing collected packages: scikit-learn" in events
    assert not any("noise" in e for e in events)
    assert any(e.startswith("  still installing") for e in events)


def test_one_rule_count_in_readme_lint_and_rules() -> None:
    catalog = list(load_catalog())
    review = sum(1 for r in catalog if r.area == "review")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"The catalog has (\d+) rules: (\d+) that `amlforge lint` runs, in\s+\w+\s+areas .*?and (\d+)\s+"
                  r"risky-change rules", readme, re.S)
    assert m, "README lost its rule count sentence"
    assert tuple(int(x) for x in m.groups()) == (len(catalog), len(catalog) - review, review), (
        f"README says {m.group(1)} rules; the catalog has {len(catalog)} ({len(catalog) - review} lint, "
        f"{review} review): update README.md")
    assert run_cli("rules").stdout.rstrip().splitlines()[-1] == (
        f"{len(catalog)} rules ({len(catalog) - review} run by lint, {review} only by review)")
    summary = run_cli("lint", "examples/sklearn-blue-green/endpoint.yml").stdout.splitlines()[-1]
    assert summary == f"All checks passed: 1 file, {len(catalog) - review} rules."


def test_a_report_to_a_device_or_fifo_writes_into_it(tmp_path: Path) -> None:
    """-o /dev/stdout (or a FIFO, or /dev/null) is written into, not replaced by a renamed file."""
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    result = run_cli("lint", BROKEN, "--format", "json", "-o", str(fifo))
    out, _ = reader.communicate(timeout=60)
    assert result.returncode == 1 and json.loads(out)
    assert fifo.is_fifo()
    stdout = run_cli("lint", BROKEN, "--format", "json", "-o", "/dev/stdout")
    assert json.loads(stdout.stdout) and Path("/dev/stdout").exists()
