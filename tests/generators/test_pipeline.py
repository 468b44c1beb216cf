"""``amlforge generate`` end to end: self-check, atomic writes, determinism, --check, --only,
and the ``init`` and ``import`` commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from amlforge.generators.pipeline import MANIFEST, generate_project
from amlforge.policies.engine import lint_paths
from tests.conftest import run_cli
from tests.generators.conftest import EXAMPLES, SHOWCASE, SPEC_IDS, SPECS


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generate_writes_everything_and_lints_clean(project: Path) -> None:
    result = run_cli("generate", "amlforge.yaml", "-o", "generated", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    files = tree(project / "generated")
    assert set(files) == {
        MANIFEST, "arm/azuredeploy.json", "arm/azuredeploy.parameters.json", "bicep/main.bicep",
        "bicep/endpoint-traffic.bicep", "azureml/sklearn-iris-bg-env.environment.yml",
        "azureml/sklearn-iris-bg.endpoint.yml", "azureml/sklearn-iris-bg.blue.deployment.yml",
        "azureml/sklearn-iris-bg.green.deployment.yml"}
    report = lint_paths([project / "generated"])
    assert report.exit_code == 0, [str(f) for f in report.findings]


def test_output_is_byte_identical_and_a_second_run_writes_nothing(project: Path, tmp_path: Path) -> None:
    first = run_cli("generate", "-o", "out-a", cwd=project)
    second = run_cli("generate", "-o", "out-b", cwd=project)
    assert first.returncode == second.returncode == 0
    assert tree(project / "out-a") == tree(project / "out-b")
    again = run_cli("generate", "-o", "out-a", cwd=project)
    assert "wrote 0 file(s)" in again.stderr
    assert tree(project / "out-a") == tree(project / "out-b")


def test_check_reports_stale_files_with_a_unified_diff(project: Path) -> None:
    assert run_cli("generate", "-o", "out", cwd=project).returncode == 0
    ok = run_cli("generate", "--check", "-o", "out", cwd=project)
    assert ok.returncode == 0 and "up to date" in ok.stderr
    spec = project / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_count: 3", "instance_count: 4", 1))
    (project / "out" / "bicep" / "main.bicep").unlink()
    before = tree(project / "out")
    stale = run_cli("generate", "--check", "-o", "out", cwd=project)
    assert stale.returncode == 1
    assert "--- a/azureml/sklearn-iris-bg.blue.deployment.yml\n+++ b/azureml/sklearn-iris-bg.blue.deployment.yml" \
        in stale.stdout
    assert "-instance_count: 3\n+instance_count: 4\n" in stale.stdout
    assert '-        "capacity": 3\n+        "capacity": 4\n' in stale.stdout
    assert "--- /dev/null\n+++ b/bicep/main.bicep" in stale.stdout
    assert "stale" in stale.stderr
    assert tree(project / "out") == before  # --check writes nothing
    assert run_cli("generate", "-o", "out", cwd=project).returncode == 0
    assert run_cli("generate", "--check", "-o", "out", cwd=project).returncode == 0


def test_only_selects_targets_and_stale_files_are_removed(project: Path) -> None:
    assert run_cli("generate", "--only", "arm,bicep", "-o", "out", cwd=project).returncode == 0
    assert {p.split("/")[0] for p in tree(project / "out")} == {"arm", "bicep", MANIFEST}
    assert run_cli("generate", "-o", "out", cwd=project).returncode == 0
    spec = project / "amlforge.yaml"
    text = spec.read_text()
    start, end = text.index("      green:"), text.index("    traffic:")
    spec.write_text(text[:start] + text[end:].replace("      green: 10\n", "").replace("blue: 90", "blue: 100"))
    result = run_cli("generate", "--only", "yaml", "-o", "out", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "1 removed" in result.stderr
    assert not (project / "out" / "azureml" / "sklearn-iris-bg.green.deployment.yml").exists()
    assert "green" in (project / "out" / "arm" / "azuredeploy.json").read_text()  # not selected: untouched
    bad = run_cli("generate", "--only", "yaml,helm", "-o", "out", cwd=project)
    assert bad.returncode == 2 and "unknown target 'helm'" in bad.stderr


def test_lint_errors_in_the_generated_yaml_refuse_the_run(project: Path) -> None:
    spec = project / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_type: Standard_F4s_v2", "instance_type: Standard_DS3_v9", 1))
    result = run_cli("generate", "-o", "out", cwd=project)
    assert result.returncode == 1
    # reported at the spec line to fix: nothing was written at out/
    assert "amlforge.yaml:33:24: error AML201" in result.stdout and "out/" not in result.stdout
    assert "refused" in result.stderr
    assert not (project / "out").exists()
    # the project's own configuration applies to the self-check
    (project / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML201"]\n')
    assert run_cli("generate", "-o", "out", cwd=project).returncode == 0


def test_missing_inputs_exit_2_with_a_location(project: Path) -> None:
    missing = run_cli("generate", "nope.yaml", "-o", "out", cwd=project)
    assert missing.returncode == 2 and missing.stderr.startswith("nope.yaml: error: no such file")
    (project / "environment" / "conda.yaml").unlink()
    conda = run_cli("generate", "-o", "out", cwd=project)
    assert conda.returncode == 2
    assert "amlforge.yaml:13:17: error: conda file 'environment/conda.yaml' does not exist" in conda.stderr
    assert "Traceback" not in conda.stderr


def test_paths_outside_the_project_are_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    spec = project / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("path: model", "path: ../elsewhere"))
    result = run_cli("generate", "-o", "out", cwd=project)
    assert result.returncode == 2 and "resolves outside the project" in result.stderr


def test_the_library_function_does_not_write_on_check(tmp_path: Path) -> None:
    result = generate_project(SHOWCASE, tmp_path / "out", check=True)
    assert result.exit_code == 1 and result.changed and not (tmp_path / "out").exists()
    assert result.diff.count("--- /dev/null") == len(result.files) + 1


def test_init_scaffolds_a_project_that_generates_and_lints_clean(tmp_path: Path) -> None:
    result = run_cli("init", "my-project", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "my-project"
    assert {"amlforge.yaml", "onlinescoring/score.py", "environment/conda.yaml", "model/model.json"} <= set(tree(root))
    again = run_cli("init", "my-project", cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    generated = run_cli("generate", "amlforge.yaml", "-o", "generated", cwd=root)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert generated.stdout == ""  # no findings at all
    assert "my-project.blue.deployment.yml" in " ".join(tree(root / "generated"))
    bad = run_cli("init", "x", "--name", "9lives", cwd=tmp_path)
    assert bad.returncode == 2 and "endpoint name" in bad.stderr


@pytest.mark.parametrize("example", ["sklearn-blue-green", "kubernetes", "custom-container", "mlflow-no-code",
                                     "gpu-pytorch"])
def test_import_of_an_example_equals_its_shipped_spec(example: str, tmp_path: Path) -> None:
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns("amlforge.yaml"))
    result = run_cli("import", str(folder), "--workspace", "aml-examples", "--resource-group", "rg-aml-examples",
                     "--region", "westeurope")
    assert result.returncode == 0, result.stderr
    imported = (folder / "amlforge.yaml").read_text().replace(str(folder), f"examples/{example}")
    assert imported == (EXAMPLES / example / "amlforge.yaml").read_text()
    exists = run_cli("import", str(folder))
    assert exists.returncode == 2 and "--force" in exists.stderr


def test_import_refuses_what_the_spec_cannot_say(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "sklearn-blue-green", tmp_path / "p", ignore=shutil.ignore_patterns("amlforge.yaml"))
    blue = tmp_path / "p" / "blue.yml"
    blue.write_text(blue.read_text() + "data_collector:\n  collections:\n    request: {enabled: true}\n")
    result = run_cli("import", "p", "-o", "-", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("p/blue.yml:") and "data_collector" in result.stderr
    broken = run_cli("import", str(EXAMPLES / "broken"), "-o", "-")
    assert broken.returncode == 2 and "error:" in broken.stderr and "Traceback" not in broken.stderr


@pytest.mark.parametrize("example", sorted(p.parent.name for p in EXAMPLES.glob("*/amlforge.yaml")))
def test_each_example_generates_and_lints_like_its_source(example: str, tmp_path: Path) -> None:
    """The demo's claim: every shipped example generates, and its generated az-ml YAML gets
    exactly the findings its hand-written YAML gets (with the example's own configuration)."""
    root = tmp_path / example
    shutil.copytree(EXAMPLES / example, root)
    result = generate_project(root / "amlforge.yaml", root / "generated")
    assert result.exit_code == 0, [str(f) for f in result.findings]
    generated = lint_paths([root / "generated"])
    source = lint_paths([EXAMPLES / example])
    assert generated.exit_code == 0, [f"{f.location} {f.rule} {f.message}" for f in generated.findings]
    hand_written = [f for f in source.findings if Path(f.location.file).name != "amlforge.yaml"]
    assert sorted((f.rule, f.severity.value, f.message) for f in generated.findings) == \
        sorted((f.rule, f.severity.value, f.message) for f in hand_written)
    # `amlforge lint` on the spec itself finds the same, at the spec's lines, with its paths
    at_spec = [f for f in source.findings if Path(f.location.file).name == "amlforge.yaml"]
    assert sorted((f.rule, f.severity.value, f.message.replace("'../../", "'")) for f in generated.findings) == \
        sorted((f.rule, f.severity.value, f.message) for f in at_spec)


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os

    umask = os.umask(0)
    os.umask(umask)
    out = tmp_path / "out"
    assert generate_project(SHOWCASE, out).exit_code == 0
    for path in (out / "arm" / "azuredeploy.json", out / "docker" / "baked" / "Dockerfile", out / MANIFEST):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_write_files_atomic_writes_all_or_leaves_the_old_files(tmp_path: Path) -> None:
    """A batch is staged, flushed once and renamed; a failure leaves no temporary file behind."""
    from amlforge.errors import UserInputError
    from amlforge.generators.writer import write_files_atomic

    (tmp_path / "a.txt").write_text("old\n")
    write_files_atomic({tmp_path / "a.txt": "new\n", tmp_path / "sub" / "b.txt": "b\n"})
    assert (tmp_path / "a.txt").read_text() == "new\n" and (tmp_path / "sub" / "b.txt").read_text() == "b\n"
    (tmp_path / "blocker").write_text("a file where a folder should be\n")
    try:
        write_files_atomic({tmp_path / "a.txt": "newer\n", tmp_path / "blocker" / "c.txt": "c\n"})
    except UserInputError:
        pass
    else:  # pragma: no cover
        raise AssertionError("writing under a file should fail")
    assert (tmp_path / "a.txt").read_text() == "new\n"  # nothing renamed before everything was staged
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_the_in_memory_self_check_finds_what_lint_finds_on_the_written_files(spec: Path, tmp_path: Path) -> None:
    """The self-check lints the output before it exists (an in-memory overlay); after the
    write, linting the folder on disk must give the same findings at the same places."""
    from amlforge.generators.inputs import read_inputs
    from amlforge.generators.pipeline import render_files, self_check
    from amlforge.generators.writer import write_files_atomic
    from amlforge.policies.config import load_config
    from amlforge.specs.loader import find_root
    from amlforge.specs.project_spec import load_spec

    root = tmp_path / spec.parent.name
    shutil.copytree(spec.parent, root, ignore=shutil.ignore_patterns("generated"))
    (root / "generated" / "azureml").mkdir(parents=True)
    (root / "generated" / "azureml" / "left-over.yml").write_text("endpoint_name: [\n")  # replaced by the run
    loaded = load_spec(root / "amlforge.yaml")
    inputs = read_inputs(loaded, root / "generated")
    files = render_files(inputs)
    before = self_check(inputs, root, root / "generated", files)
    (root / "generated" / "azureml" / "left-over.yml").unlink()
    write_files_atomic({root / "generated" / rel: text for rel, text in files.items()})
    _, config = load_config(find_root([root]))
    after = lint_paths([root / "generated" / "azureml"], profile=loaded.spec.target.profile,
                       config_file=Path(config) if config else None).findings
    assert [str(f) for f in before] == [str(f) for f in after]
    assert all(f.severity.value != "error" for f in before)


def test_several_specs_run_in_one_process_each_into_its_own_folder(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "project" / "other"
    shutil.copytree(EXAMPLES / "kubernetes", other, ignore=shutil.ignore_patterns("*.yml", "generated"))
    broken = tmp_path / "project" / "broken"
    broken.mkdir()
    (broken / "amlforge.yaml").write_text("endpoints: [\n")
    result = run_cli("generate", "amlforge.yaml", "other/amlforge.yaml", "-o", "gen", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "gen" / "azureml" / "sklearn-iris-bg.endpoint.yml").is_file()
    assert (other / "gen" / "arm" / "azuredeploy.json").is_file()
    assert result.stderr.count("wrote ") == 2
    check = run_cli("generate", "--check", "amlforge.yaml", "other/amlforge.yaml", "broken/amlforge.yaml",
                    "-o", "gen", cwd=project)
    # the bad spec is reported with its place and exit 2; the others are still checked
    assert check.returncode == 2
    assert "broken/amlforge.yaml:2:1: error:" in check.stderr and "Traceback" not in check.stderr
    assert check.stderr.count("are up to date") == 2
    absolute = run_cli("generate", "amlforge.yaml", "other/amlforge.yaml", "-o", str(tmp_path / "one"), cwd=project)
    assert absolute.returncode == 2 and "several specs would all write into it" in absolute.stderr
    assert not (tmp_path / "one").exists()


def test_import_gives_a_lone_deployment_the_traffic_all_traffic_gives_it(tmp_path: Path) -> None:
    """az-ml flows give a lone deployment its traffic with --all-traffic, which no file records;
    import writes it into the spec (with a note), so the templates generate writes keep it."""
    folder = tmp_path / "p"
    shutil.copytree(EXAMPLES / "sklearn-blue-green", folder, ignore=shutil.ignore_patterns("amlforge.yaml"))
    endpoint = folder / "endpoint.yml"
    endpoint.write_text("".join(line for line in endpoint.read_text().splitlines(keepends=True)
                                if not line.startswith(("traffic:", "  blue:", "  green:"))))
    assert "\ntraffic:" not in endpoint.read_text()
    two = run_cli("import", str(folder), "-o", "-")
    assert two.returncode == 0, two.stderr
    assert "traffic:" not in two.stdout and "note: endpoint" not in two.stderr  # two deployments: no guess
    lint = run_cli("lint", "-", "--stdin-filename", str(folder / "amlforge.yaml"), "--select", "AML319",
                   input=two.stdout)
    assert lint.returncode == 1 and "sets no traffic" in lint.stdout, lint.stdout + lint.stderr
    (folder / "green.yml").unlink()
    one = run_cli("import", str(folder), "-o", "-")
    assert one.returncode == 0, one.stderr
    assert "    traffic:\n      blue: 100\n" in one.stdout
    assert "note: endpoint 'sklearn-iris-bg' sets no traffic: the spec sends 100 % to 'blue'" in one.stderr
