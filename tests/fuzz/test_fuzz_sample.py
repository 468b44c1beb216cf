"""A fixed-seed sample of the fuzz campaign (``make fuzz`` runs the full one): 1,000 mutated
az-ml YAML, conda, score.py and amlforge.yaml inputs, each of which must fail safely."""

from __future__ import annotations

from tests.fuzz.engine import campaign, describe

SAMPLE = 1_000
SEED = 20_261_207


def test_fixed_seed_sample_fails_safely() -> None:
    result = campaign(SAMPLE, SEED, time_limit=20.0)
    print("\n" + result.summary())
    assert result.inputs == SAMPLE
    assert set(result.by_kind) == {"azml", "conda", "score", "spec"}
    assert result.failures == [], "\n\n".join(describe(o) for o in result.failures[:10])
    # the campaign reached every kind of outcome: the mutations do make bad input
    assert result.exit_codes[2] > 50 and result.exit_codes[1] > 50 and result.exit_codes[0] > 10


def test_the_checks_catch_what_they_must() -> None:
    from tests.fuzz.engine import check_output

    assert check_output("a.yml:1:2: error AML001 x\n  hint: y\nFound 1 error in 1 file.\n", "text") == ""
    assert "without file:line:col" in check_output("a.yml: error: x\n", "text")
    assert "raw character U+202E" in check_output("a.yml:1:1: error AML1 \u202e\n", "text")
    assert "traceback" in check_output("Traceback (most recent call last):\n", "json")
