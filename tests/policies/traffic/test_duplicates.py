"""Two files of one deployment: reported (AML318), and counted once by the quota figures."""

from __future__ import annotations

from pathlib import Path

from amlforge.policies.capacity._quota import quota_table
from amlforge.policies.engine import lint_paths

DEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: {name}
endpoint_name: my-endpoint
model: azureml:my-model:1
environment: azureml:my-env:1
instance_type: Standard_DS3_v2
instance_count: 3
"""


def test_a_copied_deployment_is_reported_and_its_quota_counted_once(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text("")
    (tmp_path / "blue.yml").write_text(DEP.format(name="blue"))
    (tmp_path / "green.yml").write_text(DEP.format(name="green"))
    alone = quota_table(lint_paths([tmp_path]).project)
    (tmp_path / "blue-copy.yml").write_text(DEP.format(name="BLUE"))
    report = lint_paths([tmp_path])
    assert [(Path(f.location.file).name, f.location.line) for f in report.findings if f.rule == "AML318"] == \
        [("blue.yml", 2)]  # blue-copy.yml comes first in file order; blue.yml is the later one
    table = quota_table(report.project)
    assert len(report.project.deployments) == 3 and table.deployments.count == 2
    assert [r.reserved_vcpus for r in table.families] == [r.reserved_vcpus for r in alone.families]
