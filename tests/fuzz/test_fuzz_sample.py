"""A fixed-seed sample of the fuzz campaign (``make fuzz`` runs the full one): 2,000 mutated
inputs of every form amlforge reads, each of which must fail safely."""

from __future__ import annotations

from tests.fuzz.engine import SEEDS, campaign, describe

ROOT_SDK = SEEDS / "sdk"

SAMPLE = 2_000  # about 220 of each of the nine kinds
SEED = 20_261_207


def test_fixed_seed_sample_fails_safely() -> None:
    result = campaign(SAMPLE, SEED, time_limit=20.0)
    print("\n" + result.summary())
    assert result.inputs == SAMPLE
    assert set(result.by_kind) == {"azml", "conda", "score", "spec", "arm", "bicep", "terraform", "sdk", "notebook"}
    assert result.failures == [], "\n\n".join(describe(o) for o in result.failures[:10])
    # the campaign reached every kind of outcome: the mutations do make bad input
    assert result.exit_codes[2] > 50 and result.exit_codes[1] > 50 and result.exit_codes[0] > 10


def test_the_checks_catch_what_they_must() -> None:
    from tests.fuzz.engine import check_output

    assert check_output("a.yml:1:2: error AML001 x\n  hint: y\nFound 1 error in 1 file.\n", "text") == ""
    assert "without file:line:col" in check_output("a.yml: error: x\n", "text")
    assert "raw character U+202E" in check_output("a.yml:1:1: error AML1 \u202e\n", "text")
    assert "traceback" in check_output("Traceback (most recent call last):\n", "json")


def test_the_sentinel_catches_an_input_that_runs() -> None:
    """The campaign's check for executed code works: a run that writes the sentinel is a crash."""
    import random

    from tests.fuzz.engine import Runner, Seed
    from tests.fuzz.syntax import SENTINEL, m_sdk

    rng = random.Random(0)
    while "open(r" not in (text := m_sdk(rng, "")):  # the mutation that would write the sentinel
        pass
    assert str(SENTINEL) in text
    runner = Runner()
    try:
        SENTINEL.write_text("as if the input had run")  # the reader never runs it; pretend it did
        seed = Seed("sdk", ROOT_SDK, "deploy_endpoint.py", (ROOT_SDK / "deploy_endpoint.py").read_bytes())
        outcome = runner.run(0, random.Random(1), seed)
    finally:
        runner.close()
        SENTINEL.unlink(missing_ok=True)
    assert outcome.problem.startswith("uncaught execution"), outcome.problem
