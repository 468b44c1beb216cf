"""``amlforge review`` on real temporary git repositories with several commits.

Each risky change is reported, a finding that both sides have is not (even when its line
moves), a finding the change removes is reported as fixed, renamed files keep their findings,
and bad input (not a repository, an unknown reference, a bad pack) exits 2. The per-rule cases
are in tests/policies/review/ (test_rule_fixtures.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from amlforge.review import review_paths
from tests.conftest import ROOT, run_cli
from tests.review._repo import Repo

ENDPOINT = """\
name: shop-ep
auth_mode: aml_token
traffic:
  blue: 90
  green: 10
"""

DEPLOYMENT = """\
name: {name}
endpoint_name: shop-ep
model: azureml:shop-model:{model}
environment:
  image: docker.io/contoso/scoring-base:{tag}
  conda_file: conda.yaml
instance_type: {sku}
instance_count: {count}
environment_variables:
  WORKER_COUNT: "1"
"""

CONDA = """\
name: env
dependencies:
  - python=3.11.9
  - pip=24.2
  - pip:
      - azureml-inference-server-http==1.5.1
      - scikit-learn==1.5.2
"""


def deployment(name: str, *, model: int = 3, tag: str = "latest", sku: str = "Standard_D4as_v4", count: int = 3) -> str:
    return DEPLOYMENT.format(name=name, model=model, tag=tag, sku=sku, count=count)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """main: endpoint + blue + green, each image on 'latest' (AML408 in both files)."""
    r = Repo(tmp_path / "shop")
    r.write(".amlforge.toml", '[tool.amlforge]\nquota = "quota.yaml"\n')
    r.write("quota.yaml", "families:\n  standardDASv4Family: {limit: 64, usage: 0}\n")
    r.write("endpoint.yml", ENDPOINT)
    r.write("blue.yml", deployment("blue"))
    r.write("green.yml", deployment("green", model=4))
    r.write("conda.yaml", CONDA)
    r.commit("base: blue 90 / green 10")
    return r


def rules(findings) -> list[str]:
    return sorted(f.rule for f in findings)


def test_unchanged_change_reports_nothing(repo: Repo) -> None:
    review = review_paths([repo.path], base="main")
    assert review.risky == [] and review.new == [] and review.fixed == []
    assert rules(review.unchanged).count("AML408") == 2
    assert review.exit_code == 0


def test_each_risky_change_is_reported(repo: Repo) -> None:
    # a second commit on main moves nothing risky; the work tree then makes every risky change
    repo.write("endpoint.yml", ENDPOINT.replace("green: 10", "green: 10  # canary"))
    repo.commit("comment the canary")
    repo.write("endpoint.yml", ENDPOINT.replace("blue: 90", "blue: 0").replace("green: 10", "green: 100"))
    repo.write("blue.yml", deployment("blue", model=4, sku="Standard_D8as_v4", count=4))   # model + SKU + count
    repo.remove("green.yml")                                                              # live deployment removed
    repo.write("red.yml", deployment("red", count=3))                                     # a new deployment
    repo.write("conda.yaml", CONDA.replace("scikit-learn==1.5.2", "scikit-learn==1.6.1"))  # environment, in place
    review = review_paths([repo.path], base="HEAD")
    found = {(f.rule, Path(f.location.file).name) for f in review.risky}
    assert found == {
        ("AML801", "endpoint.yml"),   # traffic shifts by 90 points
        ("AML802", "endpoint.yml"),   # green is deleted while it serves 10 %
        ("AML803", "blue.yml"),       # Standard_D4as_v4 -> Standard_D8as_v4 (create-only)
        ("AML804", "blue.yml"),       # 3 -> 4 instances
        ("AML805", "blue.yml"),       # model, environment, instance type and scale in one update
        ("AML806", "blue.yml"),       # azureml:shop-model:3 -> 4 without a new deployment name
        ("AML807", "blue.yml"),       # the conda file changes under the same name
        ("AML808", "blue.yml"),       # standardDASv4Family: 32 -> 56 of 64 vCPUs; blue grows most
    }
    by_rule = {f.rule: f for f in review.risky}
    assert by_rule["AML802"].severity.value == "error"
    assert "model, environment, instance type and scale" in by_rule["AML805"].message
    assert "azureml:shop-model:3 -> azureml:shop-model:4" in by_rule["AML806"].message
    assert by_rule["AML808"].message.startswith("standardDASv4Family vCPU quota use rises from 32 to 56 of 64 (88%)")
    assert review.exit_code == 1


def test_unchanged_finding_is_not_reported_and_fixed_one_is(repo: Repo) -> None:
    # blue's image gets a dated tag (fixes its AML408); lines move in green.yml (its AML408 stays)
    repo.write("blue.yml", deployment("blue", tag="1.4.2"))
    repo.write("green.yml", "# the canary\n\n" + deployment("green", model=4))
    review = review_paths([repo.path], base="main")
    assert review.new == []
    assert rules(review.risky) == ["AML807"]  # a new image is a new environment for a live deployment
    assert [(f.rule, Path(f.location.file).name, f.location.line) for f in review.fixed] == [("AML408", "blue.yml", 5)]
    assert [(f.rule, Path(f.location.file).name, f.location.line) for f in review.unchanged] == [
        ("AML408", "green.yml", 7)]
    assert review.exit_code == 1


def test_new_finding_is_reported_against_an_older_commit(repo: Repo) -> None:
    repo.write("blue.yml", deployment("blue", tag="1.4.2"))
    first = repo.commit("pin blue's image")
    repo.write("blue.yml", deployment("blue", tag="1.4.2").replace('WORKER_COUNT: "1"', 'WORKER_COUNT: "1"\n  DB_PASSWORD: hunter2'))
    repo.commit("add a secret")
    review = review_paths([repo.path], base="HEAD~1")
    assert rules(review.new) == ["AML701"] and review.fixed == []
    assert review.new[0].location.line == 11
    older = review_paths([repo.path], base="main~2")  # before the image was pinned
    assert rules(older.new) == ["AML701"] and rules(older.fixed) == ["AML408"]
    assert first != repo.git("rev-parse", "HEAD")


def test_renamed_file_keeps_its_findings(repo: Repo) -> None:
    repo.git("mv", "green.yml", "green-canary.yml")
    review = review_paths([repo.path], base="main")
    assert review.new == [] and review.fixed == [] and review.risky == []
    assert any(Path(f.location.file).name == "green-canary.yml" for f in review.unchanged)


def test_new_project_folder_has_no_base(repo: Repo) -> None:
    repo.write("team-b/endpoint.yml", ENDPOINT.replace("shop-ep", "team-b-ep").replace("  green: 10\n", "")
               .replace("blue: 90", "blue: 100"))
    repo.write("team-b/blue.yml", deployment("blue").replace("shop-ep", "team-b-ep"))
    repo.write("team-b/conda.yaml", CONDA)
    review = review_paths([repo.path / "team-b"], base="main", root=repo.path)
    assert rules(review.new) == ["AML408"] and review.risky == [] and review.fixed == []


# --- the command line ---------------------------------------------------------------------------


def _sarif_validator() -> Draft4Validator:
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return Draft4Validator(schema)


def test_cli_formats_and_exit_codes(repo: Repo) -> None:
    repo.write("endpoint.yml", ENDPOINT.replace("blue: 90", "blue: 50").replace("green: 10", "green: 50"))
    text = run_cli("review", "--base", "main", cwd=repo.path)
    assert text.returncode == 1, text.stderr
    assert "endpoint.yml:5:10: warning AML801 traffic of endpoint 'shop-ep' shifts by 40 points" in text.stdout
    assert text.stdout.rstrip().endswith("fails at --fail-on warning.")
    assert run_cli("review", "--base", "main", "--traffic-step", "40", cwd=repo.path).returncode == 0

    markdown = run_cli("review", "--base", "main", "--format", "markdown", cwd=repo.path)
    assert markdown.stdout.startswith("<!-- amlforge-review -->\n## amlforge review fails")
    assert "| Risky changes | 0 | 1 | 0 |" in markdown.stdout
    assert "| warning | `AML801` large-traffic-shift | `endpoint.yml:5` |" in markdown.stdout

    sarif = run_cli("review", "--base", "main", "--format", "sarif", "--policy", "builtin:production",
                    cwd=repo.path)
    log = json.loads(sarif.stdout)
    errors = list(_sarif_validator().iter_errors(log))
    assert not errors, errors[:3]
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"AML801"}  # production findings exist on both sides: unchanged
    assert all(r["baselineState"] == "new" for r in results)
    assert log["runs"][0]["properties"]["base"]["ref"] == "main"

    data = json.loads(run_cli("review", "--base", "main", "--format", "json", cwd=repo.path).stdout)
    assert data["summary"] == {"risky": 1, "new": 0, "fixed": 0, "unchanged": 2}
    assert data["risky"][0]["rule"] == "AML801"


def test_cli_bad_input_exits_2(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    (outside / "blue.yml").write_text(deployment("blue"))
    result = run_cli("review", "--base", "main", ".", cwd=outside)
    assert result.returncode == 2
    assert "error: not a git repository" in result.stderr and "Traceback" not in result.stderr

    result = run_cli("review", "--base", "no-such-branch", cwd=repo.path)
    assert result.returncode == 2
    assert "error: unknown git reference 'no-such-branch'" in result.stderr and "hint:" in result.stderr

    repo.write("pack.yaml", "pack: p\nrules: []\n")
    result = run_cli("review", "--base", "main", "--policy", "pack.yaml", cwd=repo.path)
    assert result.returncode == 2
    assert result.stderr.startswith("pack.yaml:2:8: error: 'rules' is empty")


def test_review_rules_are_silent_in_lint(repo: Repo) -> None:
    """lint never runs the review rules: selecting only them leaves no rule, which is an error."""
    result = run_cli("lint", "--select", "AML8", ".", cwd=repo.path)
    assert result.returncode == 2 and "no rule is selected" in result.stderr
    assert "review rules (AML8xx) run only in 'amlforge review'" in result.stderr


def test_review_sarif_describes_pack_rules(repo: Repo) -> None:
    from amlforge.review.render import to_sarif

    repo.write("red.yml", deployment("red"))  # a new deployment: new production-pack findings
    review = review_paths([repo.path], base="main", policies=["builtin:production"], select=["AML99"])
    assert {f.rule for f in review.new} == {"AML994", "AML995", "AML996"}
    assert all(Path(f.location.file).name == "red.yml" for f in review.new)
    log = to_sarif(review)
    assert not list(_sarif_validator().iter_errors(log))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    descriptors = {r["id"]: r for r in rules}
    assert descriptors["AML995"]["helpUri"].endswith("docs/policy-packs.md#builtinproduction")
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_new_unreadable_file_is_a_finding(repo: Repo) -> None:
    repo.write("blue.yml", deployment("blue").replace("instance_count: 3", "instance_count: [3"))
    review = review_paths([repo.path], base="main")
    assert [f.rule for f in review.new if f.fatal] == ["AML002"] and review.exit_code == 1


def test_a_spec_is_reviewed_through_the_yaml_it_generates(tmp_path: Path) -> None:
    """A project kept as amlforge.yaml gets the risky-change rules too, at the spec's lines."""
    import shutil

    r = Repo(tmp_path / "spec-project")
    example = ROOT / "examples" / "sklearn-blue-green"
    shutil.copytree(example, r.path, ignore=shutil.ignore_patterns("*.yml", "train.py", "README.md"),
                    dirs_exist_ok=True)
    r.commit("base: blue 90 / green 10 from amlforge.yaml")
    spec = (r.path / "amlforge.yaml").read_text()
    r.write("amlforge.yaml", spec.replace("      blue: 90\n      green: 10", "      blue: 40\n      green: 60")
            .replace("instance_type: Standard_F4s_v2", "instance_type: Standard_F8s_v2", 1))
    review = review_paths([r.path], base="main")
    risky = sorted((f.rule, Path(f.location.file).name, f.location.line) for f in review.risky)
    lines = (r.path / "amlforge.yaml").read_text().splitlines()
    blue_sku = next(i for i, line in enumerate(lines, 1) if "Standard_F8s_v2" in line)
    assert ("AML803", "amlforge.yaml", blue_sku) in risky, risky  # a create-only change, in place
    assert any(rule == "AML801" and name == "amlforge.yaml" for rule, name, _ in risky), risky
    assert all(name == "amlforge.yaml" for _, name, _ in risky)
    assert review.exit_code == 1
    # a new spec: nothing to compare with, so no risky change
    r.commit("shift traffic")
    shutil.copytree(r.path / "onlinescoring", r.path / "other" / "onlinescoring")
    shutil.copytree(r.path / "model", r.path / "other" / "model")
    shutil.copytree(r.path / "environment", r.path / "other" / "environment")
    r.write("other/amlforge.yaml", spec.replace("sklearn-iris-bg", "other-ep"))
    assert [f.rule for f in review_paths([r.path], base="main").risky] == []
