"""The records amlforge passes around (msgspec Structs) and its lazily compiled patterns.

Structs replaced dataclasses for start-up time (issue 14); these tests pin what the dataclasses
promised and the rest of the code relies on: immutability, value equality and hashing, fields
left out of equality, and that every module-level pattern is a valid regular expression even
though none is compiled at import any more.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import msgspec
import pytest

import amlforge
from amlforge._regex import LazyPattern
from amlforge.errors import Location
from amlforge.policies.registry import Finding, Severity
from amlforge.specs.conda import Dependency


def test_frozen_records_are_immutable_values() -> None:
    a, b = Location("x.yml", 3, 5), Location("x.yml", 3, 5)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.line = 4  # type: ignore[misc]
    moved = msgspec.structs.replace(a, line=4)
    assert moved.line == 4 and a.line == 3 and moved != a
    finding = Finding("AML301", "traffic-not-100", Severity.ERROR, a, "traffic sums to 90")
    assert finding.hint == "" and finding.prevents == () and finding.to_dict()["line"] == 3


def test_a_dependency_is_equal_whatever_its_quoting_and_where_its_text_ends() -> None:
    where = Location("conda.yaml", 7, 5)
    plain = Dependency("numpy", "numpy=1.26.4", "conda", "1.26.4", "=1.26.4", where)
    quoted = Dependency("numpy", "numpy=1.26.4", "conda", "1.26.4", "=1.26.4", where, end=(7, 19), quote='"')
    other = Dependency("numpy", "numpy=1.26.3", "conda", "1.26.3", "=1.26.3", where)
    assert plain == quoted and hash(plain) == hash(quoted)
    assert plain != other and len({plain, quoted, other}) == 2


def _module_patterns() -> list[tuple[str, str, LazyPattern]]:
    """Every LazyPattern bound at module level (directly or in a list/tuple/dict) in amlforge."""
    found = []
    for info in pkgutil.walk_packages(amlforge.__path__, "amlforge."):
        module = importlib.import_module(info.name)  # the suite installs every extra
        for name, value in vars(module).items():
            stack = [value]
            while stack:
                item = stack.pop()
                if isinstance(item, LazyPattern):
                    found.append((info.name, name, item))
                elif isinstance(item, (list, tuple)):
                    stack.extend(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
    return found


def test_every_module_level_pattern_compiles() -> None:
    patterns = _module_patterns()
    assert len(patterns) >= 80, "the walk should find the package's patterns"
    for module, name, pattern in patterns:
        try:
            compiled = pattern.compiled()
        except re.error as e:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"{module}.{name}: {e}")
        assert compiled.pattern == pattern.pattern


def test_a_lazy_pattern_compiles_on_first_use_and_behaves_as_re() -> None:
    lazy = LazyPattern(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE)
    assert lazy._compiled is None
    text = "Blue-1 green-22 x"
    eager = re.compile(lazy.pattern, re.IGNORECASE)
    assert lazy.match(text).groups() == eager.match(text).groups()
    assert lazy._compiled is not None
    assert lazy.search(text, 6).group("word") == "green"
    assert lazy.fullmatch("ab-3") and not lazy.fullmatch("ab-3 ")
    assert lazy.findall(text) == eager.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.sub(r"\2", text) == eager.sub(r"\2", text) == "1 22 x"
    assert lazy.subn("", text) == eager.subn("", text)
    assert lazy.split(text, 1) == eager.split(text, 1)
    assert lazy.flags == eager.flags and dict(lazy.groupindex) == {"word": 1}
    assert repr(lazy) == f"LazyPattern({lazy.pattern!r}, re.IGNORECASE)"


def test_an_invalid_lazy_pattern_fails_when_used() -> None:
    broken = LazyPattern(r"(unclosed")
    with pytest.raises(re.error):
        broken.search("x")


def test_a_pack_rule_is_equal_whatever_its_raw_text() -> None:
    from amlforge.policies.packs._model import AllOf, PackRule, Selector

    where = Location("pack.yml", 4, 3)
    args = ("AML901", "x-rule", "error", "m", "h", "d", "", Selector(("deployment",)), AllOf((), where), where)
    assert PackRule(*args, raw={"a": 1}) == PackRule(*args, raw={"b": 2})
    assert len({PackRule(*args, raw={"a": 1}), PackRule(*args)}) == 1
    assert PackRule(*args) != PackRule(*args[:-1], Location("pack.yml", 5, 3))
