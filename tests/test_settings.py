"""Per-file project roots and configuration (as ruff does), exclusion, --show-settings, and the
validation of selectors and options: a monorepo lints as its projects would one by one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from amlforge.errors import UserInputError
from amlforge.policies.engine import lint_paths
from amlforge.policies.settings import DEFAULT_EXCLUDE, Resolver
from tests.conftest import EXAMPLES, run_cli

DEPLOYMENT = """\
name: blue
endpoint_name: shop-ep
model: azureml:m:1
environment: azureml:e:1
instance_type: Standard_DS3_v2
instance_count: 3
"""


def test_two_projects_lint_as_each_alone_whatever_the_order() -> None:
    """The examples are separate projects (each with its .amlforge.toml): no AML107 'outside the
    project', the gpu example's own quota file applies (no AML209), and argument order does not matter."""
    forward = run_cli("lint", "examples/gpu-pytorch", "examples/kubernetes")
    backward = run_cli("lint", "examples/kubernetes", "examples/gpu-pytorch")
    assert forward.returncode == 0, forward.stdout + forward.stderr
    assert forward.stdout == backward.stdout
    assert "AML107" not in forward.stdout and "AML209" not in forward.stdout
    body = lambda text: [line for line in text.splitlines() if not line.startswith(("Found", "All checks"))]  # noqa: E731
    alone = [line for name in ("gpu-pytorch", "kubernetes") for line in body(run_cli("lint", f"examples/{name}").stdout)]
    assert body(forward.stdout) == alone
    report = lint_paths([EXAMPLES / "gpu-pytorch", EXAMPLES / "kubernetes"])
    assert report.files == 6 and len(report.projects) == 2
    assert sorted(p.root.name for p in report.projects) == ["gpu-pytorch", "kubernetes"]


def _monorepo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "blue.yml").write_text(DEPLOYMENT)
    return tmp_path


def test_nearest_configuration_applies_to_each_file(tmp_path: Path) -> None:
    repo = _monorepo(tmp_path)
    (repo / "a" / ".amlforge.toml").write_text('[tool.amlforge]\nselect = ["AML2"]\n')
    (repo / "pyproject.toml").write_text('[tool.amlforge]\nselect = ["AML3"]\n[tool.amlforge.severity]\n'
                                         'AML201 = "info"\n')
    (repo / "a" / "blue.yml").write_text(DEPLOYMENT.replace("Standard_DS3_v2", "Standard_DS3_v9"))
    (repo / "b" / "blue.yml").write_text(DEPLOYMENT.replace("Standard_DS3_v2", "Standard_DS3_v9"))
    report = lint_paths([repo])
    by_file = {(f.location.file.replace("\\", "/").rsplit("/", 2)[-2], f.rule, f.severity.value)
               for f in report.findings}
    # a/ uses its own file (AML2 at default severity); b/ the repository's (AML3 only: no AML201)
    assert ("a", "AML201", "error") in by_file
    assert not any(folder == "b" and rule.startswith("AML2") for folder, rule, _ in by_file)
    assert len(report.projects) == 2


def test_extend_inherits_and_records_sources(tmp_path: Path) -> None:
    repo = _monorepo(tmp_path)
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML602"]\nprofile = "prod"\n')
    (repo / "a" / ".amlforge.toml").write_text('[tool.amlforge]\nextend = "../.amlforge.toml"\nprofile = "test"\n')
    result = run_cli("lint", "--show-settings", "a/blue.yml", cwd=repo)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "configuration: a/.amlforge.toml" in out and "extends: .amlforge.toml" in out
    assert 'profile        = "test"  # a/.amlforge.toml' in out
    assert 'ignore         = ["AML602"]  # .amlforge.toml' in out
    assert 'fail_on        = "warning"  # default' in out
    assert "project root: a  (nearest folder with .amlforge.toml)" in out
    cli = run_cli("lint", "--show-settings", "b/blue.yml", "--select", "AML3", cwd=repo).stdout
    assert "configuration: .amlforge.toml" in cli and 'select         = ["AML3"]  # command line (--select)' in cli
    assert "project root: .  (nearest folder with .git)" in cli


def test_exclude_extend_exclude_and_cli_exclude(tmp_path: Path) -> None:
    repo = _monorepo(tmp_path)
    for folder in ("node_modules/pkg", ".venv/lib", "legacy", "c/build"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "blue.yml").write_text(DEPLOYMENT.replace("Standard_DS3_v2", "Standard_DS3_v9"))
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy/", "build"]\n')
    report = lint_paths([repo], select=["AML201"])
    assert report.findings == [] and report.files == 2  # a/ and b/ only
    assert {f.location.file for f in lint_paths([repo], select=["AML201"], exclude=["b"]).findings} == set()
    assert lint_paths([repo], exclude=["b"]).files == 1
    # exclude replaces the defaults
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nexclude = ["legacy"]\n')
    files = {Path(f.location.file).parts[-3:-1] for f in lint_paths([repo], select=["AML201"]).findings}
    assert ("node_modules", "pkg") in files and ("c", "build") in files and ("legacy",) not in files
    # a file named on the command line is linted anyway, unless --force-exclude
    named = repo / "legacy" / "blue.yml"
    assert lint_paths([named], select=["AML201"]).findings
    assert lint_paths([named], select=["AML201"], force_exclude=True).findings == []


BAD_SKU = DEPLOYMENT.replace("Standard_DS3_v2", "Standard_DS3_v9")  # AML201 on line 5

#: A GitHub Actions workflow that deploys with az ml: YAML with ``name`` and jobs, not an az-ml file.
WORKFLOW = """\
name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: azure/login@v2
        with:
          creds: ${{ secrets.AZURE_CREDENTIALS }}
      - run: az ml online-deployment create -f .github/azureml/blue.yml --all-traffic
"""


def _dot_folder_repo(tmp_path: Path) -> Path:
    """A repository whose az-ml files live in dot-folders, beside tool folders that hold copies."""
    repo = tmp_path / "repo"
    for folder in (".github/azureml", ".azure/online", ".github/workflows", ".venv/lib", "node_modules/pkg",
                   ".git/refs", ".terraform/modules/aml", ".tox/py311"):
        (repo / folder).mkdir(parents=True)
    (repo / ".github" / "azureml" / "blue.yml").write_text(BAD_SKU)
    (repo / ".azure" / "online" / "green.yml").write_text(BAD_SKU.replace("blue", "green"))
    for tool in (".venv/lib", "node_modules/pkg", ".git/refs", ".terraform/modules/aml", ".tox/py311"):
        (repo / tool / "blue.yml").write_text(BAD_SKU)
    (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (repo / ".pre-commit-config.yaml").write_text("repos:\n  - repo: https://github.com/x/amlforge\n"
                                                   "    rev: v1\n    hooks:\n      - id: amlforge\n")
    return repo


def test_az_ml_files_in_dot_folders_are_linted(tmp_path: Path) -> None:
    """Issue 13: az-ml files under .github/ and .azure/ are found by a folder run (the old default
    ``.*`` skipped every dot-folder); .venv, node_modules, .git, .terraform and .tox are not walked."""
    repo = _dot_folder_repo(tmp_path)
    report = lint_paths([repo], root=repo)
    linted = sorted(Path(d.path).relative_to(repo).as_posix() for d in report.project.documents)
    assert linted == [".azure/online/green.yml", ".github/azureml/blue.yml"]
    assert report.files == 2
    by_rule = {(Path(os.path.relpath(os.path.abspath(f.location.file), repo)).as_posix(), f.rule, f.location.line)
               for f in report.findings if f.rule == "AML201"}
    assert by_rule == {(".github/azureml/blue.yml", "AML201", 5), (".azure/online/green.yml", "AML201", 5)}


def test_non_az_ml_yaml_in_dot_folders_is_classified_not_linted(tmp_path: Path) -> None:
    """A walked workflow and a dot-file are read, recognised as not az-ml and skipped: no finding
    (no AML1xx schema error) on them."""
    repo = _dot_folder_repo(tmp_path)
    report = lint_paths([repo], root=repo)
    on = lambda name: [f.rule for f in report.findings if Path(f.location.file).name == name]  # noqa: E731
    assert on("ci.yml") == [] and on(".pre-commit-config.yaml") == []
    skipped = {Path(path).name for path, _ in report.skipped}
    assert {"ci.yml", ".pre-commit-config.yaml"} <= skipped
    # named on the command line, the workflow is still not az-ml: a note, no schema errors
    named = lint_paths([repo / ".github" / "workflows" / "ci.yml"], root=repo, skip_unknown=True)
    assert not [f for f in named.findings if f.rule.startswith("AML1")] and named.files == 0


def test_default_exclude_replaced_or_extended_for_dot_folders(tmp_path: Path) -> None:
    """extend-exclude can leave a dot-folder out again; exclude = [] walks even .venv."""
    repo = _dot_folder_repo(tmp_path)
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = [".azure/"]\n')
    assert sorted(Path(d.path).name for d in lint_paths([repo]).project.documents) == ["blue.yml"]
    (repo / ".amlforge.toml").write_text("[tool.amlforge]\nexclude = []\n")
    walked = {Path(d.path).parent.relative_to(repo).as_posix() for d in lint_paths([repo]).project.documents}
    assert {".venv/lib", "node_modules/pkg", ".git/refs", ".github/azureml"} <= walked


def test_editor_and_fix_runs_walk_dot_folders_as_the_cli_does(tmp_path: Path) -> None:
    """Runs with an overlay (the language server's open documents, the passes of --fix) walk
    with the same default exclude: an open az-ml file in .github/ gets its findings (with the
    unsaved text), one in .venv/ gets none, as `amlforge lint` on the folder."""
    from amlforge.server.core import Session
    from amlforge.specs.overlay import Overlay

    repo = _dot_folder_repo(tmp_path)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    session = Session()
    open_doc = repo / ".github" / "azureml" / "blue.yml"
    session.open(open_doc, DEPLOYMENT.replace("Standard_DS3_v2", "Standard_DS3_v7"))  # unsaved text
    outcome = session.lint(open_doc)
    assert outcome.error is None and outcome.root == repo
    messages = [f.message for f in outcome.findings.get(open_doc, []) if f.rule == "AML201"]
    assert len(messages) == 1 and "Standard_DS3_v7" in messages[0]
    assert not any(".venv" in str(p) or "node_modules" in str(p) for p in outcome.findings)
    overlay = Overlay.of_files({str(open_doc): open_doc.read_text()})
    walked = lint_paths([repo], root=repo, overlay=overlay)
    assert sorted(Path(d.path).relative_to(repo).as_posix() for d in walked.project.documents) == [
        ".azure/online/green.yml", ".github/azureml/blue.yml"]


def test_fix_passes_keep_the_exclusions_and_configurations_of_the_first(tmp_path: Path) -> None:
    """--fix lints again with its edits in memory: those passes walk, exclude and group as the
    first one, so a file under extend-exclude, or under a configuration that ignores the rule,
    is never edited (the later passes used to lint every walked file with one configuration)."""
    repo = _monorepo(tmp_path)  # a/blue.yml, b/blue.yml
    (repo / "legacy").mkdir()
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy/"]\n')
    (repo / "b" / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML201"]\n')
    for folder in ("a", "b", "legacy"):
        (repo / folder / "blue.yml").write_text(BAD_SKU)
    result = run_cli("lint", "--fix", ".", cwd=repo)
    assert result.returncode in (0, 1) and "Fixed 1 finding" in result.stdout, result.stdout + result.stderr
    assert (repo / "a" / "blue.yml").read_text() == DEPLOYMENT  # Standard_DS3_v9 -> Standard_DS3_v2
    assert (repo / "b" / "blue.yml").read_text() == BAD_SKU and (repo / "legacy" / "blue.yml").read_text() == BAD_SKU


def test_editor_documents_follow_the_exclusions(tmp_path: Path) -> None:
    """The language server lints the open documents' project as `amlforge lint` walks it: a new,
    unsaved file in .github/ is linted; an open file under extend-exclude is not."""
    from amlforge.server.core import Session

    repo = _dot_folder_repo(tmp_path)
    (repo / ".amlforge.toml").write_text('[tool.amlforge]\nextend-exclude = ["legacy/"]\n')
    (repo / "legacy").mkdir()
    (repo / "legacy" / "blue.yml").write_text(BAD_SKU)
    session = Session()
    new_doc = repo / ".github" / "azureml" / "canary.yml"  # not saved yet
    session.open(new_doc, BAD_SKU.replace("blue", "canary"))
    session.open(repo / "legacy" / "blue.yml", BAD_SKU)
    outcome = session.lint(new_doc)
    assert outcome.error is None
    assert [f.rule for f in outcome.findings.get(new_doc, []) if f.rule == "AML201"] == ["AML201"]
    assert not outcome.findings.get(repo / "legacy" / "blue.yml")
    assert not new_doc.exists()


def test_show_settings_prints_the_default_exclude(tmp_path: Path) -> None:
    repo = _dot_folder_repo(tmp_path)
    out = run_cli("lint", "--show-settings", ".github/azureml/blue.yml", cwd=repo)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("exclude "))
    assert line.endswith("# default")
    listed = json.loads(line.split("=", 1)[1].rsplit("#", 1)[0])
    assert listed == list(DEFAULT_EXCLUDE) and ".git" in listed and ".venv" in listed
    assert not any(p.startswith(".github") or p.startswith(".azure") or p == ".*" for p in listed)
    assert "excluded from folder walks: no" in out.stdout
    venv = run_cli("lint", "--show-settings", ".venv/lib/blue.yml", cwd=repo).stdout
    assert "excluded from folder walks: yes" in venv


def test_glob_patterns(tmp_path: Path) -> None:
    resolver = Resolver(exclude=["deploy/**/*.gen.yml", "/top.yml", "[ab]x/"])
    (tmp_path / ".git").mkdir()
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        resolver = Resolver(exclude=["deploy/**/*.gen.yml", "/top.yml", "[ab]x/"])
        match = lambda rel, is_dir=False: resolver.excluded(tmp_path / rel, is_dir)  # noqa: E731
        assert match("deploy/x/y/z.gen.yml") and match("deploy/z.gen.yml") and not match("other/deploy/z.gen.yml")
        assert match("top.yml") and not match("sub/top.yml")
        assert match("sub/ax", True) and not match("sub/ax") and not match("cx", True)
        # the defaults: named tool folders, not every dot-folder (az-ml files live in .github/, .azure/)
        assert match(".venv", True) and match("x/.git", True) and match("x/node_modules", True)
        assert match("x/.terraform", True) and match("__pycache__", True)
        assert not match(".github", True) and not match(".azure", True) and not match(".hidden", True)
        assert not match("build", True)  # as in ruff since 0.3: a common name for real folders
    finally:
        os.chdir(old)


def test_generated_output_is_linted_through_its_spec(tmp_path: Path) -> None:
    """Generated files whose spec is in the same run are left out (their findings come at the spec's
    lines): when walked, and when named with --force-exclude; without their spec they are linted."""
    project = tmp_path / "svc"
    shutil.copytree(EXAMPLES / "sklearn-blue-green", project, ignore=shutil.ignore_patterns("*.yml"))
    assert run_cli("generate", "amlforge.yaml", "-o", "out", cwd=project).returncode == 0
    out_files = sorted((project / "out").rglob("*.yml"))
    assert out_files
    walked = lint_paths([tmp_path])
    assert walked.files == 1 and {Path(f.location.file).name for f in walked.findings} == {"amlforge.yaml"}
    # the manifest itself (walked now that dot-files are) is amlforge's record, not an input
    assert (project / "out" / ".amlforge-generated.json").is_file()
    assert not [shown for shown, _ in walked.skipped if shown.endswith(".amlforge-generated.json")]
    assert lint_paths([project / "out"]).files == len(out_files)
    spec = project / "amlforge.yaml"
    assert lint_paths([spec, *out_files], force_exclude=True, skip_unknown=True).files == 1
    assert lint_paths([spec, *out_files], skip_unknown=True).files == 1 + len(out_files)
    assert lint_paths(out_files, force_exclude=True, skip_unknown=True).files == len(out_files)
    shown = run_cli("lint", "--show-settings", str(out_files[0]), cwd=tmp_path).stdout
    assert "generated from: svc/amlforge.yaml" in shown


@pytest.mark.parametrize(("args", "message", "hint"), [
    (["--select", "AML3O1"], "unknown rule ID, prefix or name 'AML3O1' in --select", "did you mean 'AML301'"),
    (["--ignore", "traffic-not-100"], "unknown rule ID, prefix or name 'traffic-not-100' in --ignore",
     "did you mean"),
    (["--select", "AML8"], "no rule is selected", "review rules (AML8xx) run only in 'amlforge review'"),
    (["--select", "AML3", "--ignore", "AML3"], "no rule is selected", "select rules"),
])
def test_bad_selectors_on_the_command_line_exit_2(args: list[str], message: str, hint: str) -> None:
    result = run_cli("lint", "examples/broken", *args)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and hint in result.stderr
    assert "All checks passed" not in result.stdout


@pytest.mark.parametrize(("toml", "message", "hint", "line"), [
    ('select = ["AML3O1"]', "unknown rule ID, prefix or name 'AML3O1' in select", "did you mean 'AML301'", 2),
    ('ignore = ["AML6O2"]', "unknown rule ID, prefix or name 'AML6O2' in ignore", "did you mean 'AML602'", 2),
    ('[tool.amlforge.severity]\nAML30 = "error"', "unknown rule ID or name 'AML30' in severity", "did you mean", 3),
    ('[tool.amlforge.options]\nmemory_facter = 3', "unknown option 'memory_facter'", "did you mean 'memory_factor'", 3),
    ('fail-onn = "error"', "unknown configuration key 'fail_onn'", "did you mean 'fail_on'", 0),
    ('select = ["AML9"]', "no rule is selected", "select rules", 0),
])
def test_bad_configuration_exits_2_at_its_line(tmp_path: Path, toml: str, message: str, hint: str, line: int) -> None:
    (tmp_path / ".amlforge.toml").write_text("[tool.amlforge]\n" + toml + "\n")
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    result = run_cli("lint", ".", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and hint in result.stderr
    if line:
        assert f".amlforge.toml:{line}:" in result.stderr


def test_builtin_pack_rules_and_options_that_rules_document_are_accepted(tmp_path: Path) -> None:
    """The examples ignore production-pack rules without loading the pack; every option a rule
    reads is documented in some rule's Options section (so validation never rejects a real one)."""
    import re

    from amlforge.policies.config import known_options
    from amlforge.policies.registry import load_catalog

    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML992", "prod-key-auth"]\n'
                                             '[tool.amlforge.options]\nmemory_factor = 3\nmodel_sizes = {}\n')
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    assert run_cli("lint", ".", cwd=tmp_path).returncode == 0
    documented = known_options(load_catalog())
    package = Path(__file__).resolve().parent.parent / "amlforge"
    used = set()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"(?:project\.option\(|_option\(project, |self\.options\.get\()\"([a-z_]+)\"", text))
    assert used and used <= set(documented), sorted(used - set(documented))


def test_show_settings_validates_and_needs_a_path(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML3O1"]\n')
    bad = run_cli("lint", "--show-settings", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean 'AML301'" in bad.stderr
    missing = run_cli("lint", "--show-settings", "nope.yml", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.yml: error: no such file or directory" in missing.stderr


def test_invalid_toml_is_located(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nselect = ["AML3"\n')
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    result = run_cli("lint", ".", cwd=tmp_path)
    assert result.returncode == 2 and ".amlforge.toml:" in result.stderr and "invalid TOML" in result.stderr


def test_extend_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nextend = "other.toml"\n')
    (tmp_path / "other.toml").write_text('[tool.amlforge]\nextend = ".amlforge.toml"\n')
    (tmp_path / "blue.yml").write_text(DEPLOYMENT)
    with pytest.raises(UserInputError, match="extend"):
        import os

        old = os.getcwd()
        os.chdir(tmp_path)
        try:
            lint_paths([tmp_path])
        finally:
            os.chdir(old)


def test_a_named_folder_without_markers_is_one_project_wherever_the_working_directory_is(tmp_path: Path) -> None:
    """Without .git, pyproject.toml or .amlforge.toml, a folder named on the command line that is
    not below the working directory is one project: its environment/ subfolder belongs with the
    deployment beside it (each folder was its own project, so the deployment's environment was
    never found and AML403 was silent)."""
    pkg = tmp_path / "pkg"
    (pkg / "environment").mkdir(parents=True)
    (pkg / "src").mkdir()
    (pkg / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
    (pkg / "environment" / "env.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: base-env\n"
        "image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20260715.v1\nconda_file: conda.yaml\n")
    (pkg / "environment" / "conda.yaml").write_text("dependencies:\n  - python=3.12\n  - pip=25.1.1\n")
    (pkg / "deployment.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
        "name: blue\nendpoint_name: my-endpoint\nmodel: azureml:m:1\nenvironment: azureml:base-env@latest\n"
        "code_configuration:\n  code: src\n  scoring_script: score.py\ninstance_type: Standard_F4s_v2\n"
        "instance_count: 3\n")
    assert Path.cwd() not in pkg.parents
    resolver = Resolver()
    groups = resolver.group(list(resolver.discover([pkg])))
    assert [root for root, _ in groups] == [pkg], groups
    for args in ([str(pkg)], [str(pkg / "deployment.yml"), str(pkg / "environment" / "env.yml")]):
        run = run_cli("lint", *args)
        assert "env.yml:4:13: error AML403" in run.stdout, run.stdout
    shown = run_cli("lint", "--show-settings", str(pkg / "deployment.yml")).stdout
    assert "(no marker found: the folder named)" in shown, shown
