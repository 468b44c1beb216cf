"""Fixes: the exact text each rule's fix writes, and that a second run has nothing left to fix.

Each case is a small project written into a temporary folder; ``fix_paths`` applies the fixes
in memory (as ``amlforge lint --fix`` does before writing) and the test compares the whole
edited text, so comments, quoting and order are checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.fixing import fix_paths
from amlforge.specs.edits import Applicability, Edit, Fix, apply_fixes, insert_entry, rename_key, replace_value
from amlforge.specs.source import parse_yaml

ENDPOINT = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
DEPLOYMENT = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
ENVIRONMENT = "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"

SCORE = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"

LOCK = """\
version: 1
metadata:
  platforms: [linux-64]
package:
  - name: python
    version: 3.11.9
    manager: conda
    platform: linux-64
    url: https://conda.anaconda.org/conda-forge/linux-64/python-3.11.9-hb806964_0_cpython.conda
    hash: {md5: 0, sha256: 0}
    dependencies: {}
  - name: numpy
    version: 1.26.4
    manager: conda
    platform: linux-64
    url: https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda
    hash: {md5: 0, sha256: 0}
    dependencies: {}
  - name: scikit-learn
    version: 1.5.2
    manager: pip
    platform: linux-64
    url: https://files.pythonhosted.org/packages/scikit_learn-1.5.2-cp311-cp311-manylinux_2_17_x86_64.whl
    hash: {sha256: 0}
    dependencies: {}
  - name: pandas
    version: 2.2.3
    manager: pip
    platform: linux-64
    url: https://files.pythonhosted.org/packages/pandas-2.2.3-cp311-cp311-manylinux_2_17_x86_64.whl
    hash: {sha256: 0}
    dependencies: {}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    (root / ".amlforge.toml").write_text("[tool.amlforge]\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fixed(root: Path, rel: str, *, unsafe: bool = False, select: tuple[str, ...] = ()) -> tuple[str, int]:
    """The text of ``rel`` after the fixes, and how many fixes applied; checks idempotence."""
    run = fix_paths([root], root=root, unsafe=unsafe, select=list(select))
    assert run.converged
    entry = run.files.get(root / rel)
    text = entry.after if entry is not None else (root / rel).read_text()
    run.write()
    again = fix_paths([root], root=root, unsafe=unsafe, select=list(select))
    assert again.applied == 0 and not again.files, "a second run found more to fix"
    assert (root / rel).read_text() == text
    return text, run.applied


# ---------------------------------------------------------------------------------------------
# AML101 unknown field -> the one key it was meant to be


def test_aml101_renames_the_key_it_was_meant_to_be(tmp_path: Path) -> None:
    write(tmp_path, {"blue.yml": DEPLOYMENT + (
        "name: blue\n"
        "endpoint_name: my-endpoint\n"
        "model: azureml:m:1\n"
        "environment: azureml:e:1\n"
        "instance_type: Standard_F4s_v2\n"
        "instance_count: 3\n"
        "request_settings:\n"
        "  request_timout_ms: 5000   # typo in the key\n"
    )})
    text, n = fixed(tmp_path, "blue.yml", select=("AML101",))
    assert n == 1
    assert text.endswith("request_settings:\n  request_timeout_ms: 5000   # typo in the key\n")


def test_aml101_no_fix_when_ambiguous_or_target_present(tmp_path: Path) -> None:
    write(tmp_path, {"blue.yml": DEPLOYMENT + (
        "name: blue\n"
        "endpoint_name: my-endpoint\n"
        "model: azureml:m:1\n"
        "environment: azureml:e:1\n"
        "instance_type: Standard_F4s_v2\n"
        "instance_count: 3\n"
        "instance_counts: 4\n"  # the key it resembles is already there: renaming would duplicate it
        "colour: blue\n"  # resembles nothing
    )})
    run = fix_paths([tmp_path], root=tmp_path, unsafe=True, select=["AML101"])
    assert [f.rule for f in run.report.findings] == ["AML101", "AML101"]
    assert all(f.fix is None for f in run.report.findings)
    assert run.applied == 0


def test_aml101_in_amlforge_yaml_keeps_quotes(tmp_path: Path) -> None:
    write(tmp_path, {"amlforge.yaml": 'name: "x"\n"endpont": {name: my-endpoint}\n'})
    from amlforge.policies.engine import lint_paths

    report = lint_paths([tmp_path / "amlforge.yaml"], root=tmp_path, select=["AML101"])
    fixes = [f.fix for f in report.findings if f.fix is not None]
    assert fixes and fixes[0].edits[0].text == '"endpoints"'


# ---------------------------------------------------------------------------------------------
# AML201 SKU typo


@pytest.mark.parametrize(("written", "expected", "safe"), [
    ("Standard_DS3_v9", "Standard_DS3_v2", True),      # version suffix
    ('"standard_ds3_V9"', '"Standard_DS3_v2"', True),   # casing + version, quotes kept
    ("Standard_F2sv2", "Standard_F2s_v2", True),         # a missing underscore
    ("Standard_D4s_v3", "Standard_E4s_v3", False),       # another series: unsafe
    ("'  Standard_F4s_v2 '", "'Standard_F4s_v2'", True),  # spaces around a valid name
])
def test_aml201_one_edit_typo(tmp_path: Path, written: str, expected: str, safe: bool) -> None:
    body = (DEPLOYMENT + "name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\n"
            "environment: azureml:e:1\ninstance_type: {}  # size\ninstance_count: 3\n")
    write(tmp_path, {"blue.yml": body.format(written)})
    text, n = fixed(tmp_path, "blue.yml", select=("AML201",))
    if safe:
        assert text == body.format(expected)
    else:
        assert n == 0 and text == body.format(written)
        text, n = fixed(tmp_path, "blue.yml", unsafe=True, select=("AML201",))
        assert text == body.format(expected)


def test_aml201_no_fix_when_two_names_are_one_edit_away(tmp_path: Path) -> None:
    write(tmp_path, {"blue.yml": DEPLOYMENT + "name: blue\nendpoint_name: e\nmodel: azureml:m:1\n"
                     "environment: azureml:e:1\ninstance_type: Standard_F4s_v3\ninstance_count: 3\n"})
    run = fix_paths([tmp_path], root=tmp_path, unsafe=True, select=["AML201"])
    assert [f.rule for f in run.report.findings] == ["AML201"]
    assert run.report.findings[0].fix is None


# ---------------------------------------------------------------------------------------------
# AML401 / AML402 pins from the lock


def _conda_project(tmp_path: Path, conda: str, lock: str | None = LOCK) -> None:
    files = {
        "blue.yml": DEPLOYMENT + (
            "name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\n"
            "code_configuration: {code: src, scoring_script: score.py}\n"
            "environment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240101.v1\n"
            "  conda_file: env/conda.yaml\n"
            "instance_type: Standard_F4s_v2\ninstance_count: 3\n"),
        "src/score.py": SCORE,
        "env/conda.yaml": conda,
    }
    if lock is not None:
        files["env/conda-lock.yml"] = lock
    write(tmp_path, files)


CONDA = """\
name: scoring
channels: [conda-forge]
dependencies:
  - python        # interpreter
  - conda-forge::numpy>=1.20
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn   # the model
      - "pandas[performance]>=2"
      - requests
"""

CONDA_FIXED = """\
name: scoring
channels: [conda-forge]
dependencies:
  - python=3.11.9        # interpreter
  - conda-forge::numpy=1.26.4
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn==1.5.2   # the model
      - "pandas[performance]==2.2.3"
      - requests
"""


def test_aml401_aml402_pin_the_locked_versions(tmp_path: Path) -> None:
    _conda_project(tmp_path, CONDA)
    text, n = fixed(tmp_path, "env/conda.yaml", select=("AML401", "AML402"))
    assert text == CONDA_FIXED
    assert n == 4
    # requests is not in the lock: still reported, without a fix
    left = fix_paths([tmp_path], root=tmp_path, select=["AML401", "AML402"]).report.findings
    assert [(f.rule, f.fix) for f in left] == [("AML402", None)]
    assert "requests" in left[0].message


def test_aml402_no_fix_when_lock_contradicts_the_constraint(tmp_path: Path) -> None:
    _conda_project(tmp_path, CONDA.replace('"pandas[performance]>=2"', '"pandas<2"'))
    run = fix_paths([tmp_path], root=tmp_path, select=["AML402"])
    pandas = [f for f in run.report.findings if "pandas" in f.message]
    assert pandas and pandas[0].fix is None


def test_aml401_no_fix_without_a_lock(tmp_path: Path) -> None:
    _conda_project(tmp_path, CONDA, lock=None)
    run = fix_paths([tmp_path], root=tmp_path, select=["AML401", "AML402"])
    assert run.report.findings and all(f.fix is None for f in run.report.findings)


# ---------------------------------------------------------------------------------------------
# AML301 traffic (unsafe)

TRAFFIC = ENDPOINT + "name: my-endpoint\nauth_mode: key\ntraffic:   # canary\n  blue: 70\n  green: {}  # new\n"


def test_aml301_balances_the_last_deployment_only_with_unsafe_fixes(tmp_path: Path) -> None:
    write(tmp_path, {"endpoint.yml": TRAFFIC.format(20)})
    text, n = fixed(tmp_path, "endpoint.yml", select=("AML301",))
    assert n == 0 and text == TRAFFIC.format(20)
    text, n = fixed(tmp_path, "endpoint.yml", unsafe=True, select=("AML301",))
    assert n == 1 and text == TRAFFIC.format(30)


def test_aml301_no_fix_when_no_single_value_balances(tmp_path: Path) -> None:
    write(tmp_path, {"endpoint.yml": ENDPOINT + "name: e\ntraffic:\n  blue: 60\n  green: 60\n  red: 60\n"})
    run = fix_paths([tmp_path], root=tmp_path, unsafe=True, select=["AML301"])
    assert run.report.findings[0].fix is None


# ---------------------------------------------------------------------------------------------
# AML310 WORKER_COUNT (unsafe)

WORKERS = DEPLOYMENT + """\
name: blue
endpoint_name: my-endpoint
model: azureml:m:1
code_configuration:
  code: ./src
  scoring_script: score.py
environment: azureml:sklearn-inference:7
instance_type: Standard_F4s_v2
instance_count: 3
"""


@pytest.mark.parametrize(("tail", "expected"), [
    # WORKER_COUNT set: its value changes, quotes kept
    ("environment_variables:\n  WORKER_COUNT: '2'  # workers\nrequest_settings:\n"
     "  max_concurrent_requests_per_instance: 4\n",
     "environment_variables:\n  WORKER_COUNT: '4'  # workers\nrequest_settings:\n"
     "  max_concurrent_requests_per_instance: 4\n"),
    # other variables: WORKER_COUNT joins them at their indentation
    ("environment_variables:\n    LOG_LEVEL: INFO\nrequest_settings:\n    max_concurrent_requests_per_instance: 8\n",
     "environment_variables:\n    WORKER_COUNT: \"8\"\n    LOG_LEVEL: INFO\nrequest_settings:\n"
     "    max_concurrent_requests_per_instance: 8\n"),
    # no environment_variables: a block at the end of the file
    ("request_settings:\n  max_concurrent_requests_per_instance: 2",
     "request_settings:\n  max_concurrent_requests_per_instance: 2\nenvironment_variables:\n  WORKER_COUNT: \"2\"\n"),
])
def test_aml310_sets_worker_count(tmp_path: Path, tail: str, expected: str) -> None:
    write(tmp_path, {"blue.yml": WORKERS + tail, "src/score.py": SCORE})
    text, n = fixed(tmp_path, "blue.yml", select=("AML310",))
    assert n == 0
    text, n = fixed(tmp_path, "blue.yml", unsafe=True, select=("AML310",))
    assert n == 1
    assert text == WORKERS + expected


# ---------------------------------------------------------------------------------------------
# AML416 environment version from a local file (unsafe)


def test_aml416_pins_the_version_of_the_local_environment_file(tmp_path: Path) -> None:
    dep = DEPLOYMENT + ("name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\n"
                        "environment: azureml:sklearn-env@latest   # follow latest\n"
                        "instance_type: Standard_F4s_v2\ninstance_count: 3\n")
    env = ENVIRONMENT + "name: sklearn-env\nversion: {}\nimage: mcr.microsoft.com/azureml/minimal-ubuntu22.04-py311-cpu-inference:20240101.v1\n"
    write(tmp_path, {"blue.yml": dep, "envs/v9.yml": env.format(9), "envs/v10.yml": env.format(10)})
    text, n = fixed(tmp_path, "blue.yml", select=("AML416",))
    assert n == 0
    text, n = fixed(tmp_path, "blue.yml", unsafe=True, select=("AML416",))
    assert text == dep.replace("azureml:sklearn-env@latest", "azureml:sklearn-env:10")


def test_aml416_no_fix_without_a_local_environment(tmp_path: Path) -> None:
    write(tmp_path, {"blue.yml": DEPLOYMENT + "name: blue\nendpoint_name: e\nmodel: azureml:m:1\n"
                     "environment: azureml:other@latest\ninstance_type: Standard_F4s_v2\ninstance_count: 3\n"})
    run = fix_paths([tmp_path], root=tmp_path, unsafe=True, select=["AML416"])
    assert run.report.findings[0].fix is None


# ---------------------------------------------------------------------------------------------
# The edit model itself


def test_edits_keep_crlf_and_skip_overlapping_fixes() -> None:
    text = "a: 1\r\nb: 2\r\n"
    one = Fix("one", (Edit("f", 1, 4, 1, 5, "10"),))
    overlapping = Fix("two", (Edit("f", 1, 4, 1, 5, "20"),))
    insert = Fix("three", (Edit("f", 2, 1, 2, 1, "c: 3\n"),))
    out, applied = apply_fixes(text, [one, overlapping, insert], "f")
    assert out == "a: 10\r\nc: 3\r\nb: 2\r\n"
    assert applied == [one, insert]


def test_builders_refuse_text_they_cannot_edit_exactly() -> None:
    data, smap = parse_yaml("a: |\n  text\nb: 'x'\nc: {d: 1}\n", "f")
    assert replace_value(smap, ("a",), data["a"], "other", "t") is None  # block scalar
    fix = replace_value(smap, ("b",), "x", "it's", "t")
    assert fix is not None and fix.edits[0].text == "'it''s'"
    assert rename_key(smap, ("c", "d"), "e", "t").edits[0].text == "e"
    assert insert_entry(smap, ("c",), "k", "v", "t") is None  # flow mapping: no guess
    assert Fix("t", ()).applicability is Applicability.SAFE
