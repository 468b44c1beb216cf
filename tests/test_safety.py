"""No crash, no hang, no leak, no injection (issue 12): each class of input that once ended in a
traceback, a hang or a leak, run through the real command line.

Every run has a generous subprocess timeout: it is a guard against a hang taking the suite down,
not a timing assertion.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

EXAMPLE = EXAMPLES / "sklearn-blue-green"
_LOCATED = re.compile(r"^\S.*:\d+:\d+: ")
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200b]")


def amlforge(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL,
             preexec=None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full.pop("AMLFORGE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "amlforge", *args], cwd=cwd, capture_output=True, env=full,
                          stdin=stdin, timeout=timeout, preexec_fn=preexec)


def text(result: subprocess.CompletedProcess[bytes]) -> str:
    return (result.stdout + result.stderr).decode("utf-8", "backslashreplace")


def safe(result: subprocess.CompletedProcess[bytes]) -> str:
    """The output, after checking the run failed safely: exit 0-2, no traceback, no raw control
    or bidi character."""
    out = text(result)
    assert result.returncode in (0, 1, 2), out
    assert "Traceback" not in out and "internal error" not in out, out
    assert not _RAW.search(out), out
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "p"
    shutil.copytree(EXAMPLE, dest)
    return dest


# --- the scalar reader: tags and numbers -------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ("!!int abc", "'abc' is not a valid !!int value"),
    ("!!bool maybe", "'maybe' is not a valid !!bool value"),
    ("!!float x", "'x' is not a valid !!float value"),
    ("!!int 0x", "'0x' is not a valid !!int value"),
    ("!custom 3", "unknown tag '!custom'"),
    ("!!python/object/apply:os.system [id]", "unknown tag '!!python/object/apply:os.system'"),
    ("1" * 5000, "a number with 5,000 characters"),
    ("0x" + "f" * 900, "a number too large to read"),
])
def test_tags_and_numbers_are_located_problems(project: Path, value: str, message: str) -> None:
    blue = project / "blue.yml"
    blue.write_text(blue.read_text().replace("instance_count: 3", f"instance_count: {value}"))
    result = amlforge("lint", "blue.yml", cwd=project)
    out = safe(result)
    assert result.returncode == 1  # a file that does not parse is a finding (AML002)
    line = next(n for n, t in enumerate(blue.read_text().splitlines(), 1) if t.startswith("instance_count:"))
    assert f"blue.yml:{line}:17: error AML002" in out and message in out, out


def test_explicit_str_tag_is_a_string(project: Path) -> None:
    from amlforge.specs.source import parse_yaml

    assert parse_yaml("a: !!str 12\nb: !!int '7'\n", "x.yml")[0] == {"a": "12", "b": 7}


def test_control_characters_are_located_and_escaped(project: Path) -> None:
    blue = project / "blue.yml"
    lines = blue.read_text().splitlines()
    lines[2] = lines[2][:6] + "\x1b[31m" + lines[2][6:]
    blue.write_text("\n".join(lines) + "\n")
    out = safe(amlforge("lint", "blue.yml", cwd=project))
    assert "blue.yml:3:7: error AML002 invalid YAML: control character U+001B is not allowed" in out, out
    assert "position" not in out


def test_a_crafted_key_cannot_forge_a_finding_line(project: Path) -> None:
    blue = project / "blue.yml"
    blue.write_text(blue.read_text() + '"x\\nblue.yml:1:1: error AML999 forged\\u202e": 1\n')
    out = safe(amlforge("lint", "blue.yml", cwd=project))
    assert not any(line.startswith("blue.yml:1:1: error AML999") for line in out.splitlines()), out
    assert "x\\nblue.yml:1:1: error AML999 forged\\u202e" in out
    for fmt in ("github", "junit", "markdown", "json", "sarif"):
        safe(amlforge("lint", "blue.yml", "--format", fmt, cwd=project))
    for line in out.splitlines():
        assert _LOCATED.match(line) or line.startswith(("  hint:", "Found ")), line


# --- paths, special files, encodings ------------------------------------------------------------


def test_path_parts_over_255_bytes(project: Path) -> None:
    long = "a" * 300
    result = amlforge("lint", f"{long}.yml", cwd=project)
    assert result.returncode in (1, 2) and "longer than the 255 bytes" in safe(result)
    blue = project / "blue.yml"
    blue.write_text(blue.read_text().replace("environment/conda.yaml", f"environment/{long}.yaml"))
    out = safe(amlforge("lint", "blue.yml", cwd=project))
    assert "AML106" in out  # the conda file does not exist: a finding at its line, not a crash


def test_fifos_and_devices_are_never_read(project: Path) -> None:
    os.mkfifo(project / "fifo.yml")  # walked: skipped without blocking
    safe(amlforge("lint", ".", cwd=project))
    result = amlforge("lint", "fifo.yml", cwd=project)
    assert result.returncode == 1 and "fifo.yml:1:1: error AML001 is a FIFO (named pipe), not a regular file" in safe(result)
    blue = project / "blue.yml"
    original = blue.read_text()
    os.mkfifo(project / "environment" / "fifo-conda.yaml")
    for conda_file, expected in (("environment/fifo-conda.yaml", "is a FIFO"), ("/dev/zero", "is a character device")):
        blue.write_text(original.replace("environment/conda.yaml", conda_file))
        out = safe(amlforge("lint", "blue.yml", cwd=project))
        assert "AML417" in out and expected in out, out
    # /dev/stdin on a pipe nobody writes to: once a hang
    blue.write_text(original.replace("environment/conda.yaml", "/dev/stdin"))
    proc = subprocess.Popen([sys.executable, "-m", "amlforge", "lint", "blue.yml"], cwd=project, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    try:
        out_bytes, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1 and b"is a FIFO" in out_bytes, out_bytes


@pytest.mark.parametrize("suffix", [".json", ".bicep", ".tf", ".py", ".ipynb", ".yaml", ".bicepparam"])
def test_a_fifo_of_any_form_beside_templates_is_never_opened(suffix: str, tmp_path: Path) -> None:
    """A FIFO named like a source of any reader, in a walked folder beside an ARM and a Bicep
    template: once a hang for *.json (the ARM reader sniffed it with open()) and *.bicep (the
    Bicep reader read its siblings to find module callers)."""
    fixtures = Path(__file__).resolve().parent / "readers" / "fixtures"
    shutil.copytree(fixtures / "arm", tmp_path / "infra")
    shutil.copytree(fixtures / "bicep", tmp_path / "infra", dirs_exist_ok=True)
    os.mkfifo(tmp_path / "infra" / f"fifo{suffix}")
    out = safe(amlforge("lint", "infra", cwd=tmp_path, timeout=60))
    assert "infra/main.bicep:" in out and "infra/endpoint.json:" in out, out


def test_user_files_are_read_bounded(tmp_path: Path) -> None:
    from amlforge.errors import UserInputError
    from amlforge.specs.files import read_user_bytes

    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    assert read_user_bytes(big, max_bytes=2048) == b"x" * 2048
    with pytest.raises(UserInputError, match="larger than the 1 KiB limit"):
        read_user_bytes(big, max_bytes=1024)
    (tmp_path / "link").symlink_to(big)
    with pytest.raises(UserInputError, match="symbolic links"):
        read_user_bytes(tmp_path / "link", nofollow=True)


def test_mlmodel_is_read_with_the_bounded_reader(tmp_path: Path) -> None:
    project = tmp_path / "mlflow"
    shutil.copytree(EXAMPLES / "mlflow-no-code", project)
    (project / "model" / "MLmodel").write_text("flavors: " + "[" * 2000 + "]" * 2000 + "\n")
    out = safe(amlforge("lint", ".", cwd=project))
    assert "MLmodel is not readable YAML" in out or "MLmodel" in out


def test_non_utf8_file_names_and_vars_on_a_strict_stdout(project: Path) -> None:
    env = {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C"}
    shutil.copy(project / "blue.yml", project / os.fsdecode(b"b\xff\xfe.yml"))
    out = safe(amlforge("lint", ".", cwd=project, env=env))
    assert "b\\xff\\xfe.yml:" in out
    result = subprocess.run([sys.executable, "-m", "amlforge", "lint", "blue.yml", "--var", os.fsdecode(b"X=\xff")],
                            cwd=project, capture_output=True, env={**os.environ, **env}, timeout=120)
    safe(result)


@pytest.mark.parametrize("value", ["[x", "!!int abc", "1" * 5000, "[" * 3000, "&a [*a]"])
def test_set_with_a_value_that_is_not_yaml(project: Path, value: str) -> None:
    result = amlforge("lint", "blue.yml", "--set", f"description={value}", cwd=project)
    out = safe(result)
    assert result.returncode == 2 and "--set description=" in out and "hint: quote a value" in out, out


def test_enum_normalisation_is_linear_and_unchanged() -> None:
    from amlforge.specs._base import camel_to_snake

    def reference(value: str) -> str:  # azure-ai-ml's two regexes
        value = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", value)
        value = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", value)
        return value.replace("-", "_").lower()

    rng = random.Random(12)
    for _ in range(20_000):
        s = "".join(rng.choice("aAbBzZ19_-") for _ in range(rng.randint(0, 10)))
        assert camel_to_snake(s) == reference(s), s
    assert camel_to_snake("AMLToken") == "aml_token" and camel_to_snake("SystemAssigned") == "system_assigned"


def test_a_long_enum_value_is_a_finding(project: Path) -> None:
    endpoint = project / "endpoint.yml"
    endpoint.write_text(endpoint.read_text().replace("auth_mode: key", "auth_mode: " + "A" * 78_000))
    out = safe(amlforge("lint", "endpoint.yml", cwd=project))
    assert "AML104" in out and len(out) < 2_000  # the value is shown cut, not in full


# --- generate: links, folders, limits, leftovers --------------------------------------------------


def _generated(project: Path) -> Path:
    result = amlforge("generate", "amlforge.yaml", "-o", "out", cwd=project)
    assert result.returncode == 0, text(result)
    return project / "out"


def test_check_never_follows_a_link_to_a_secret(project: Path, tmp_path: Path) -> None:
    out = _generated(project)
    secret = tmp_path / "environ"
    secret.write_text("AWS_SECRET_ACCESS_KEY=fake-secret-4711\n")
    target = out / "arm" / "azuredeploy.json"
    target.unlink()
    target.symlink_to(secret)
    for args in (["--check"], []):
        result = amlforge("generate", "amlforge.yaml", "-o", "out", *args, cwd=project)
        out_text = safe(result)
        assert result.returncode == 2, out_text
        assert "fake-secret-4711" not in out_text
        assert "out/arm/azuredeploy.json:1:1: error: is a symbolic link in the output folder" in out_text, out_text
    assert secret.read_text() == "AWS_SECRET_ACCESS_KEY=fake-secret-4711\n"


def test_generate_never_writes_or_deletes_through_a_linked_folder(project: Path, tmp_path: Path) -> None:
    out = _generated(project)
    outside = tmp_path / "outside"
    shutil.move(out / "bicep", outside)
    (out / "bicep").symlink_to(outside)
    before = {p.name: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    (outside / "main.bicep").write_text("// edited outside\n")
    for args in (["--check"], []):
        result = amlforge("generate", "amlforge.yaml", "-o", "out", *args, cwd=project)
        assert result.returncode == 2 and "is a symbolic link" in safe(result), text(result)
    assert (outside / "main.bicep").read_text() == "// edited outside\n"
    assert {p.name for p in outside.rglob("*") if p.is_file()} == set(before)
    # stale-file cleanup: a file an earlier run listed, now behind a linked folder, stays
    (out / "bicep").unlink()
    shutil.move(outside, out / "bicep")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "azureml", elsewhere)
    (out / "azureml").symlink_to(elsewhere)
    (elsewhere / "old.yml").write_text("not generated by this run\n")
    manifest = out / ".amlforge-generated.json"
    data = json.loads(manifest.read_text())
    data["files"].append("azureml/old.yml")
    manifest.write_text(json.dumps(data))
    result = amlforge("generate", "amlforge.yaml", "-o", "out", cwd=project)
    assert result.returncode == 2 and "is a symbolic link" in safe(result), text(result)
    assert (elsewhere / "old.yml").read_text() == "not generated by this run\n"


def test_a_folder_where_a_file_goes_changes_nothing(project: Path) -> None:
    out = _generated(project)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    spec = project / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_count: 3", "instance_count: 4"))
    (out / "arm" / "azuredeploy.json").unlink()
    (out / "arm" / "azuredeploy.json").mkdir()
    result = amlforge("generate", "amlforge.yaml", "-o", "out", cwd=project)
    assert result.returncode == 2 and "is a folder, where a generated file goes" in safe(result), text(result)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == {p: b for p, b in before.items() if p.name != "azuredeploy.json"}


def test_the_file_size_limit_leaves_every_file_as_it_was(project: Path) -> None:
    out = _generated(project)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    spec = project / "amlforge.yaml"
    spec.write_text(spec.read_text().replace("instance_count: 3", "instance_count: 4"))
    biggest = max(len(b) for b in before.values())

    def limit() -> None:  # RLIMIT_FSIZE: writing past it fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (biggest // 2, biggest // 2))

    result = amlforge("generate", "amlforge.yaml", "-o", "out", cwd=project, preexec=limit)
    out_text = safe(result)
    assert result.returncode == 2 and "the file size limit was reached; nothing was changed" in out_text, out_text
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # no .tmp left either


def test_a_failed_rename_rolls_the_batch_back(tmp_path: Path) -> None:
    from amlforge.errors import UserInputError
    from amlforge.generators import writer

    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c"
    a.write_text("old a")
    staged = []
    for path, content in ((a, "new a"), (b, "new b"), (c, "new c")):
        tmp = tmp_path / f".{path.name}.abcdefgh.tmp"
        tmp.write_text(content)
        staged.append((str(tmp), path))
    c.mkdir()
    (c / "x").write_text("keeps the folder non-empty")  # renaming a file onto it fails
    with pytest.raises(UserInputError, match="nothing was changed"):
        writer._commit(staged)
    assert a.read_text() == "old a" and not b.exists() and (c / "x").exists()


def test_leftovers_of_a_killed_run_are_reported_then_removed(project: Path) -> None:
    out = _generated(project)
    leftover = out / "arm" / ".azuredeploy.json.k1ll3d_x.tmp"
    leftover.write_text("half")
    result = amlforge("generate", "amlforge.yaml", "-o", "out", "--check", cwd=project)
    out_text = safe(result)
    assert result.returncode == 1 and "leftover temporary file" in out_text and "up to date" not in out_text
    result = amlforge("generate", "amlforge.yaml", "-o", "out", cwd=project)
    assert result.returncode == 0 and not leftover.exists(), text(result)
    assert amlforge("generate", "amlforge.yaml", "-o", "out", "--check", cwd=project).returncode == 0


# --- review -------------------------------------------------------------------------------------


def test_review_with_an_absolute_symlink_in_the_base_commit(project: Path) -> None:
    if shutil.which("git") is None:  # pragma: no cover - git is part of the test setup
        pytest.fail("git is needed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    run = lambda *a: subprocess.run(["git", *a], cwd=project, check=True, capture_output=True,  # noqa: E731
                                    env={**os.environ, **env})
    run("init", "-q")
    (project / "abs-link.yml").symlink_to("/etc/hostname")
    (project / "up-link").symlink_to("../../..")
    run("add", "-A")
    run("commit", "-qm", "base")
    (project / "blue.yml").write_text((project / "blue.yml").read_text().replace("instance_count: 3", "instance_count: 4"))
    result = amlforge("review", "--base", "HEAD", ".", cwd=project)
    out = safe(result)
    assert "instance_count" in out, out


def test_json_report_of_odd_names_is_valid_json(project: Path) -> None:
    shutil.copy(project / "blue.yml", project / "b\u202eluey.yml")
    result = amlforge("lint", ".", "--format", "json", cwd=project)
    data = json.loads(safe(result).split("\n", 0)[0] if False else result.stdout.decode())
    assert any("\\u202e" in f["path"] for f in data)
    assert ROOT  # the repository root is importable for the fuzz engine
