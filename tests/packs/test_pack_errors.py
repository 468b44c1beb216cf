"""A malformed policy pack is an error at its file:line:col with a hint and exit code 2, never a silent pass.

The four kinds the issue names (bad YAML, unknown operator, wrong type, unknown field) run through
the real command line in a subprocess; the other checks run in-process (same code path, faster).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.policies.packs import load_pack, load_packs
from tests.conftest import EXAMPLES, run_cli

RULE = """\
pack: contoso
rules:
  - id: AML901
    name: unapproved-instance-type
    severity: error
    select: {resource: deployment, kind: managed}
    assert: {field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}
    message: "instance_type {value} is not approved for {name}"
"""

CLI_CASES = {
    "bad_yaml": (RULE.replace("    severity: error", "     severity: error"),
                 r"pack\.yaml:5:14: error: invalid YAML: mapping values are not allowed in this context\n  hint: "),
    "unknown_operator": (RULE.replace("in: [Standard_F4s_v2, Standard_F8s_v2]", "equal: Standard_F4s_v2"),
                         r"pack\.yaml:7:36: error: unknown operator 'equal' in rule AML901\n  hint: did you mean 'equals'\?"),
    "wrong_type": (RULE.replace("{field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}",
                                '{field: instance_count, min: "three"}'),
                   (r"pack\.yaml:7:42: error: 'min' in rule AML901 should be a number, got 'three'\n"
                   r"  hint: write the number without quotes")),
    "unknown_field": (RULE.replace("    severity: error", "    severity: error\n    remediation: ask the platform team"),
                      r"pack\.yaml:6:5: error: unknown field 'remediation' in rule AML901\n  hint: a rule takes: id, name"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_malformed_pack_exits_2_with_location(case: str, tmp_path: Path) -> None:
    text, expected = CLI_CASES[case]
    (tmp_path / "pack.yaml").write_text(text)
    result = run_cli("lint", "--policy", str(tmp_path / "pack.yaml"), str(EXAMPLES / "sklearn-blue-green"),
                     cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_pack_in_configuration_is_resolved_from_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "org.yaml").write_text(RULE.replace("in: [", "in: [Standard_DS3_v2, "))
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\npolicies = ["policies/org.yaml"]\n')
    (tmp_path / "blue.yml").write_text("name: blue\nendpoint_name: ep\nmodel: azureml:m:1\nenvironment: azureml:e:1\n"
                                       "instance_type: Standard_F2s_v2\ninstance_count: 3\n")
    result = run_cli("lint", "--select", "AML9", "blue.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("blue.yml:5:16: error AML901 instance_type Standard_F2s_v2 is not approved for blue")


def _error(tmp_path: Path, text: str, *, name: str = "pack.yaml") -> UserInputError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UserInputError) as info:
        load_pack(str(path))
    return info.value


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    (RULE.replace("AML901", "AML301"), 3, 9, "rule ID 'AML301' is outside the user range AML900-AML999"),
    (RULE.replace("AML901", "AML995"), 3, 9, "rule ID AML995 is reserved for amlforge's built-in packs"),
    (RULE.replace("unapproved-instance-type", "no-big-skus"), 4, 11, "rule name 'no-big-skus' starts with 'no-'"),
    (RULE.replace("unapproved-instance-type", "Big_SKU"), 4, 11, "rule name 'Big_SKU' in rule AML901 is not kebab-case"),
    (RULE.replace("severity: error", "severity: fatal"), 5, 15, "'severity' in rule AML901 is 'fatal', expected one of"),
    (RULE.replace("resource: deployment", "resource: deployments"), 6, 24, "'resource' in rule AML901 is 'deployments'"),
    (RULE.replace("field: instance_type", "field: instanse_type"), 7, 21,
     "unknown field 'instanse_type' in the deployment"),
    (RULE.replace("field: instance_type", "field: request_settings.timeout"), 7, 21,
     "unknown field 'timeout' in request_settings"),
    (RULE.replace("{value}", "{valu}"), 8, 14, "unknown placeholder {valu} in 'message'"),
    (RULE.replace("in: [Standard_F4s_v2, Standard_F8s_v2]", "matches: '(Standard'"), 7, 45,
     "invalid regular expression in 'matches'"),
    (RULE.replace("in: [Standard_F4s_v2, Standard_F8s_v2]", "min: 5, max: 2").replace("instance_type", "instance_count"),
     7, 42, "min 5 is above max 2"),
    (RULE.replace("{field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}", "{field: instance_type}"),
     7, 21, "field test on 'instance_type' in rule AML901 has no operator"),
    (RULE.replace("{field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}", "{in: [a]}"),
     7, 14, "operator 'in' in rule AML901 has no 'field' to test"),
    (RULE.replace("{field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}",
                  "{field: instance_type, in: [a], any: [{field: name, equals: a}]}"), 7, 45,
     "condition in rule AML901 mixes 'field' and 'any'"),
    (RULE.replace("{field: instance_type, in: [Standard_F4s_v2, Standard_F8s_v2]}", "instance_count >= 3"),
     7, 13, "'assert' in rule AML901 should be a mapping (a condition"),
    (RULE.replace('    message: "instance_type {value} is not approved for {name}"\n', ""), 3, 5,
     "rule in rule AML901 is missing 'message'"),
    (RULE + "    severity: warning\n", 9, 5, "'severity' is given twice (first on line 5)"),
    (RULE + RULE.split("rules:\n")[1], 9, 9, "rule ID AML901 is defined twice in this pack (first on line 3)"),
    ("", 1, 1, "the policy pack is empty"),
    ("- a\n- b\n", 1, 1, "a policy pack is a mapping with 'pack' and 'rules'"),
    ("pack: contoso\nrules: []\n", 2, 8, "'rules' is empty"),
    ("pack: contoso\nrule: []\n", 2, 1, "unknown field 'rule' in the pack"),
])
def test_semantic_errors_are_located(tmp_path: Path, text: str, line: int, column: int, message: str) -> None:
    error = _error(tmp_path, text)
    assert error.location is not None
    assert error.location.file.endswith("pack.yaml")
    assert (error.location.line, error.location.column) == (line, column), f"{error.location}: {error.message}"
    assert error.message.startswith(message), error.message
    assert error.hint


def test_two_packs_with_one_id_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(RULE)
    (tmp_path / "b.yaml").write_text(RULE.replace("contoso", "team-b").replace("unapproved-instance-type", "other-rule"))
    with pytest.raises(UserInputError) as info:
        load_packs([str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    assert info.value.message.startswith("rule ID AML901 is defined by two policy packs: 'contoso'")
    assert info.value.location.file.endswith("b.yaml") and info.value.location.line == 3
    # the same pack named twice is loaded once
    assert len(load_packs([str(tmp_path / "a.yaml"), str(tmp_path / "a.yaml")])) == 1


def test_pack_rule_may_not_take_a_catalog_name(tmp_path: Path) -> None:
    from amlforge.policies.packs import registry_with_packs
    from amlforge.policies.registry import load_catalog

    (tmp_path / "a.yaml").write_text(RULE.replace("unapproved-instance-type", "mutable-image-tag"))
    with pytest.raises(UserInputError, match="already the name of AML408"):
        registry_with_packs(load_catalog(), [str(tmp_path / "a.yaml")])


def test_unknown_builtin_pack(tmp_path: Path) -> None:
    with pytest.raises(UserInputError) as info:
        load_pack("builtin:prodution")
    assert info.value.hint == "did you mean 'builtin:production'?"
