"""YAML reading with a source map."""

from __future__ import annotations

import pytest

from amlforge.errors import UserInputError
from amlforge.specs.source import MAX_NODES, parse_yaml


def test_every_value_has_its_line_and_column() -> None:
    data, smap = parse_yaml("name: blue\nrequest_settings:\n  request_timeout_ms: 5000\nlist:\n  - a\n  - b\n", "f.yml")
    assert data["request_settings"]["request_timeout_ms"] == 5000
    assert smap.values[("name",)] == (1, 7)
    assert smap.values[("request_settings", "request_timeout_ms")] == (3, 23)
    assert smap.keys[("request_settings", "request_timeout_ms")] == (3, 3)
    assert smap.values[("list", 1)] == (6, 5)
    assert str(smap.locate(("request_settings", "missing"))) == "f.yml:2:1"


def test_duplicate_keys_keep_the_last_value_and_are_recorded() -> None:
    data, smap = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yml")
    assert data["a"] == 3
    [dup] = smap.duplicates
    assert (dup.path, dup.line, dup.first_line) == (("a",), 3, 1)


def test_yaml_1_1_scalars_match_pyyaml() -> None:
    data, _ = parse_yaml("a: yes\nb: 0755\nc: ~\nd: 1.5\ne: 2024-01-01\nf: '007'\n", "f.yml")
    assert data == {"a": True, "b": 493, "c": None, "d": 1.5, "e": "2024-01-01", "f": "007"}


def test_merge_keys() -> None:
    data, _ = parse_yaml("base: &b {period: 10, timeout: 2}\nprobe:\n  <<: *b\n  timeout: 3\n", "f.yml")
    assert data["probe"] == {"timeout": 3, "period": 10}


def test_placeholders_are_filled_or_recorded() -> None:
    text = "name: {{NAME}}\nendpoint_name: \"{{EP}}-prod\"\nimage: x:{{TAG}}\n"
    data, smap = parse_yaml(text, "f.yml", {"NAME": "blue"})
    assert data["name"] == "blue"
    assert data["endpoint_name"] == "{{EP}}-prod"
    assert {p.name for p in smap.placeholders} == {"EP", "TAG"}
    assert smap.values[("name",)] == (1, 7)


def test_alias_bomb_is_stopped_quickly() -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, cur in zip("abcdefghi", "bcdefghij"):
        rows.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(UserInputError) as err:
        parse_yaml("\n".join(rows), "bomb.yml")
    assert f"{MAX_NODES:,}" in err.value.message
    assert err.value.location.file == "bomb.yml"


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(UserInputError, match="nests"):
        parse_yaml("a: " + "[" * 200 + "]" * 200, "deep.yml")


def test_complex_key_is_refused_with_placeholder_hint() -> None:
    with pytest.raises(UserInputError) as err:
        parse_yaml("? [a, b]\n: 1\n", "k.yml")
    assert "mapping key" in err.value.message
