"""``builtin:production`` flags the production risks of examples/broken and nothing in the good examples.

The good examples are linted as their folders configure them. Four of them keep key auth, a public
endpoint or no Application Insights on purpose; their ``.amlforge.toml`` waives exactly those rules
and says why. gpu-pytorch is tagged ``stage: dev`` and the pack leaves non-production resources out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.policies.engine import lint_paths
from amlforge.policies.packs import load_pack
from tests.conftest import EXAMPLES

GOOD = ["sklearn-blue-green", "kubernetes", "mlflow-no-code", "custom-container", "gpu-pytorch"]


def pack_findings(folder: Path) -> list[tuple[str, str, int]]:
    report = lint_paths([folder], policies=["builtin:production"])
    return [(f.rule, Path(f.location.file).name, f.location.line) for f in report.findings if f.rule.startswith("AML99")]


def test_broken_example_production_risks() -> None:
    assert pack_findings(EXAMPLES / "broken") == [
        ("AML996", "blue.yml", 3),       # no Application Insights (default false)
        ("AML994", "blue.yml", 11),      # README #5: base image on the floating 'latest' tag
        ("AML990", "blue.yml", 14),      # README #7: instance_count 1 in production
        ("AML993", "endpoint.yml", 3),   # public_network_access defaults to enabled
        ("AML992", "endpoint.yml", 5),   # auth_mode: key
        ("AML995", "green-v2.yml", 3),   # no liveness_probe
        ("AML995", "green-v2.yml", 3),   # no readiness_probe
        ("AML996", "green-v2.yml", 3),
        ("AML990", "green-v2.yml", 12),  # README #23: a single GPU instance
    ]


@pytest.mark.parametrize("example", GOOD)
def test_good_examples_pass(example: str) -> None:
    assert pack_findings(EXAMPLES / example) == []


def test_exemptions_are_documented_and_narrow(tmp_path: Path) -> None:
    """Each waived production rule is named in its example's configuration with a reason."""
    import tomllib

    ids = {r.id for r in load_pack("builtin:production").rules}
    for example in GOOD:
        config = EXAMPLES / example / ".amlforge.toml"
        table = tomllib.loads(config.read_text()).get("tool", {}).get("amlforge", {}) if config.exists() else {}
        waived = [i for i in table.get("ignore", []) if i in ids]
        text = config.read_text() if config.exists() else ""
        for rid in waived:
            assert f"{rid} prod-" in text, f"{example}: {rid} is ignored without a documented reason"
        assert not any(i.startswith("AML9") and i not in ids for i in table.get("ignore", []))
        assert "AML99" not in table.get("ignore", []) and "AML9" not in table.get("ignore", [])
    # the waivers are what they claim: without them the pack does flag these examples
    (tmp_path / "empty.toml").write_text("[tool.amlforge]\n")
    report = lint_paths([EXAMPLES / "sklearn-blue-green"], policies=["builtin:production"],
                        config_file=tmp_path / "empty.toml")
    assert {f.rule for f in report.findings if f.rule.startswith("AML99")} == {"AML992", "AML993"}


def test_gpu_example_is_out_of_scope_by_its_tag() -> None:
    report = lint_paths([EXAMPLES / "gpu-pytorch"], policies=["builtin:production"], select=["AML99"])
    assert report.findings == []
    assert "stage: dev" in (EXAMPLES / "gpu-pytorch" / "endpoint.yml").read_text()
