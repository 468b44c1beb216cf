"""Traffic-area findings point at the exact offending value (or key) in the YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path

from amlforge.policies.engine import lint_paths

ENDPOINT = """\
name: pos-endpoint
auth_mode: key
traffic:
  blue: 70
  gren: 20
  green: -10
mirror_traffic:
  blue: 60
"""

MANAGED = """\
name: blue
endpoint_name: pos-endpoint
model: azureml:iris:1
code_configuration:
  code: ./src
  scoring_script: score.py
environment: azureml:sklearn-env:2
instance_type: Standard_F4s_v2
environment_variables:
  WORKER_COUNT: "2"
request_settings:
  request_timeout_ms: 200000
  max_queue_wait_ms: 500
  max_concurrent_requests_per_instance: 4
liveness_probe:
  failure_threshold: 0
readiness_probe:
  period: 5
  timeout: 6
"""

KUBERNETES = """\
name: green
type: kubernetes
endpoint_name: pos-endpoint
model: azureml:iris:1
code_configuration:
  code: ./src
  scoring_script: score.py
environment: azureml:sklearn-env:2
instance_count: 2
scale_settings:
  type: target_utilization
  min_instances: 4
  max_instances: 2
request_settings:
  max_concurrent_requests_per_instance: 2
resources:
  requests:
    cpu: "2"
    memory: "1024"
  limits:
    cpu: "1"
    memory: "2Gi"
"""

# rule ID -> the text each finding of that rule must point at (in file order)
EXPECTED = {
    "AML301": ["traffic:"],
    "AML302": ["gren:"],
    "AML303": ["-10"],
    "AML304": ["blue: 60", "60"],
    "AML306": ["200000"],
    "AML307": ["max_queue_wait_ms:"],
    "AML308": ["0"],
    "AML310": ["4", "2"],
    "AML311": ["2"],
    "AML312": ["2"],
    "AML313": ['"2"'],
    "AML314": ['"1024"'],
    "AML315": ["instance_count:"],
    "AML316": ["instance_type:"],
}


def test_findings_point_at_the_offending_value(tmp_path: Path) -> None:
    for name, text in (("endpoint.yml", ENDPOINT), ("blue.yml", MANAGED), ("green.yml", KUBERNETES)):
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(data):\n    return data\n")
    report = lint_paths([tmp_path], root=tmp_path)
    pointed: dict[str, list[str]] = {}
    for f in report.findings:
        if not f.rule.startswith("AML3") or f.rule == "AML305":
            continue
        line = Path(f.location.file).read_text(encoding="utf-8").splitlines()[f.location.line - 1]
        pointed.setdefault(f.rule, []).append(line[f.location.column - 1:])
    assert set(pointed) == set(EXPECTED), pointed
    for rule_id, starts in EXPECTED.items():
        got = pointed[rule_id]
        assert len(got) == len(starts), (rule_id, got)
        for text, start in zip(got, starts):
            assert text.startswith(start), (rule_id, text, start)
