"""`amlforge server` driven by a real LSP client (pytest-lsp) over stdio, as an editor drives it.

Each test starts the server as a subprocess (`python -m amlforge server`), opens documents of a
small project written into a temporary folder, and checks what the server publishes and answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: my-endpoint
auth_mode: key
traffic:
  blue: 70
  green: 30
"""
BLUE = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: my-endpoint
model: azureml:m:1
environment: azureml:e:1
instance_type: Standard_F4s_v2
instance_count: 3
liveness_probe:
  initial_delay: 10
"""
GREEN = BLUE.replace("name: blue", "name: green")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML202"]\n')
    (tmp_path / "endpoint.yml").write_text(ENDPOINT)
    (tmp_path / "blue.yml").write_text(BLUE)
    (tmp_path / "green.yml").write_text(GREEN)
    return tmp_path


def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping every publishDiagnostics in order (waiting for "the next
    notification" can miss one that arrives in the same burst as another)."""
    from pygls.protocol import default_converter
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "amlforge", "server"],
                                              client_factory=make_client))
async def client(lsp_client: LanguageClient, project: Path):
    params = types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
                                    root_uri=from_fs_path(str(project)))
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def uri(project: Path, name: str) -> str:
    return from_fs_path(str(project / name))


async def open_doc(client: LanguageClient, project: Path, name: str, text: str | None = None) -> str:
    u = uri(project, name)
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=u, language_id="yaml", version=1, text=text if text is not None else (project / name).read_text())))
    await wait_for(client, u, 1)
    return u


async def wait_for(client: LanguageClient, u: str, version: int) -> list[types.Diagnostic]:
    """The diagnostics the server published for version ``version`` of the document ``u``."""
    for _ in range(6000):  # 120 s at most: a slow, shared machine, never a hang
        for params in reversed(client.published):
            if params.uri == u and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no diagnostics for version {version} of {u}")


async def change(client: LanguageClient, u: str, version: int, text: str) -> list[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=u, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    return await wait_for(client, u, version)


@pytest.mark.asyncio
async def test_open_clean_then_edit_publishes_the_lint_findings(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    assert list(client.diagnostics[u]) == []
    diagnostics = await change(client, u, 2, BLUE.replace("Standard_F4s_v2", "Standard_F4s_v9"))
    assert [(d.code, d.severity, d.range.start.line, d.range.start.character) for d in diagnostics] == [
        ("AML201", types.DiagnosticSeverity.Error, 5, 15)]
    d = diagnostics[0]
    assert d.range.end == types.Position(5, 30)  # the whole value
    assert d.source == "amlforge" and "Standard_F4s_v9" in d.message
    # the disk was not touched: the in-memory text is what was linted
    assert (project / "blue.yml").read_text() == BLUE
    assert await change(client, u, 3, BLUE) == []


@pytest.mark.asyncio
async def test_cross_file_rule_uses_the_open_text_and_saved_files(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "endpoint.yml")
    assert list(client.diagnostics[u]) == []
    # traffic now names a deployment that is in no saved file: AML302, and the sum is off: AML301
    diagnostics = await change(client, u, 2, ENDPOINT.replace("green: 30", "red: 20"))
    assert sorted(str(d.code) for d in diagnostics) == ["AML301", "AML302"]
    # the same configuration as `amlforge lint`: ignore AML301 in .amlforge.toml, then edit again
    (project / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML202", "AML301"]\n')
    diagnostics = await change(client, u, 3, ENDPOINT.replace("green: 30", "red: 20"))
    assert [str(d.code) for d in diagnostics] == ["AML302"]


@pytest.mark.asyncio
async def test_findings_of_other_files_go_to_their_uris(client: LanguageClient, project: Path) -> None:
    (project / "green.yml").write_text(GREEN.replace("instance_type", "instance_typo"))
    u = await open_doc(client, project, "blue.yml")
    green = uri(project, "green.yml")
    for _ in range(500):  # published right after the document itself
        if green in client.diagnostics:
            break
        await asyncio.sleep(0.02)
    assert list(client.diagnostics[u]) == []
    assert "AML101" in {str(d.code) for d in client.diagnostics[green]}


@pytest.mark.asyncio
async def test_suppression_comment_is_honoured(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    text = BLUE.replace("Standard_F4s_v2", "Standard_F4s_v9  # amlforge: ignore[AML201]")
    assert await change(client, u, 2, text) == []


@pytest.mark.asyncio
async def test_hover_shows_rule_docs_on_a_finding_and_field_docs_on_a_key(client: LanguageClient,
                                                                          project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    await change(client, u, 2, BLUE.replace("Standard_F4s_v2", "Standard_F4s_v9"))
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(u), types.Position(5, 20)))
    assert hover is not None
    assert hover.contents.value.startswith("**AML201 unknown-instance-type** (error)")
    assert "## Why is this bad?" in hover.contents.value
    key = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(u), types.Position(8, 5)))
    assert key is not None and key.contents.value.startswith("**initial_delay**: `int`")
    assert "Seconds after the container starts" in key.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(u), types.Position(1, 8)))  # the value 'blue': no docs
    assert nothing is None


@pytest.mark.asyncio
async def test_completion_of_keys_skus_and_enumerations(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    text = BLUE + "  per\n"
    await change(client, u, 2, text)
    keys = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(u), types.Position(9, 5)))
    labels = [i.label for i in keys.items]
    assert "period" in labels and "failure_threshold" in labels
    assert "initial_delay" not in labels  # already there
    await change(client, u, 3, BLUE.replace("Standard_F4s_v2", "Stan"))
    skus = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(u), types.Position(5, 19)))
    assert "Standard_DS3_v2" in [i.label for i in skus.items]
    e = await open_doc(client, project, "endpoint.yml", ENDPOINT.replace("auth_mode: key", "auth_mode: "))
    modes = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(e), types.Position(2, 11)))
    assert [i.label for i in modes.items] == ["key", "aml_token", "aad_token"]


@pytest.mark.asyncio
async def test_code_actions_fix_and_suppress(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    diagnostics = await change(client, u, 2, BLUE.replace("Standard_F4s_v2", "Standard_F4s_v9"))
    sku = next(d for d in diagnostics if d.code == "AML201")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(u), sku.range, types.CodeActionContext(diagnostics=[sku])))
    titles = [a.title for a in actions]
    assert "AML201: Replace 'Standard_F4s_v9' with 'Standard_F4s_v2'" in titles
    assert "Suppress AML201 on this line" in titles
    fix = next(a for a in actions if a.title.startswith("AML201: Replace"))
    assert fix.is_preferred
    (edit,) = fix.edit.changes[u]
    assert edit.new_text == "Standard_F4s_v2"
    assert (edit.range.start, edit.range.end) == (types.Position(5, 15), types.Position(5, 30))
    suppress = next(a for a in actions if a.title.startswith("Suppress"))
    (edit,) = suppress.edit.changes[u]
    assert edit.new_text == "  # amlforge: ignore[AML201]" and edit.range.start == types.Position(5, 30)
    # fix-all: every safe fix of the document as one edit (a misspelt key makes the spec invalid, so the
    # SKU rules do not run on it: one thing at a time, as the editor shows it)
    await change(client, u, 3, BLUE.replace("instance_count", "instance_cont"))
    everything = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(u), types.Range(types.Position(0, 0), types.Position(0, 0)),
        types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll])))
    (fix_all,) = everything
    (whole,) = fix_all.edit.changes[u]
    assert whole.new_text == BLUE


@pytest.mark.asyncio
async def test_bad_input_never_stops_the_server(client: LanguageClient, project: Path) -> None:
    u = await open_doc(client, project, "blue.yml")
    for version, text in enumerate(["key: [unclosed\n", "\x00\x01 binary", "- a list\n", "", "a: *nowhere\n",
                                    "a: &x [*x]\n"], start=2):
        diagnostics = await change(client, u, version, text)
        assert all(d.source == "amlforge" for d in diagnostics)
    assert [str(d.code) for d in await change(client, u, 20, "key: [unclosed\n")] == ["AML002"]
    # hover, completion and code actions on nonsense positions answer nothing, and the server lives on
    assert await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(u), types.Position(500, 3))) is None
    await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(u), types.Position(500, 3)))
    # a broken configuration is reported on the document, not a crash
    (project / ".amlforge.toml").write_text("[tool.amlforge\n")
    diagnostics = await change(client, u, 21, BLUE)
    assert diagnostics and diagnostics[0].message.startswith("amlforge: ")
    (project / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML202"]\n')
    assert await change(client, u, 22, BLUE) == []


@pytest.mark.asyncio
async def test_a_sub_project_keeps_its_own_configuration_and_root(client: LanguageClient, project: Path) -> None:
    """Issue 14: a folder with its own .amlforge.toml below the open document's project is linted
    as `amlforge lint` lints it: its files with its configuration and its own root."""
    svc = project / "svc"
    (project / "shared" / "src").mkdir(parents=True)
    (project / "shared" / "src" / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw):\n    return raw\n")
    svc.mkdir()
    (svc / ".amlforge.toml").write_text('[tool.amlforge]\nignore = ["AML202"]\n[tool.amlforge.severity]\n'
                                        'AML201 = "info"\n')
    (svc / "endpoint.yml").write_text(ENDPOINT.replace("my-endpoint", "svc-endpoint")
                                      .replace("  blue: 70\n  green: 30\n", "  blue: 100\n"))
    (svc / "blue.yml").write_text(BLUE.replace("my-endpoint", "svc-endpoint").replace("Standard_F4s_v2", "Standard_F4s_v9")
                                  + "code_configuration:\n  code: ../shared/src\n  scoring_script: score.py\n")
    await open_doc(client, project, "blue.yml")
    sub = uri(project, "svc/blue.yml")
    for _ in range(500):  # published right after the document itself
        if sub in client.diagnostics:
            break
        await asyncio.sleep(0.02)
    published = sorted((str(d.code), d.severity) for d in client.diagnostics.get(sub, []))
    # svc's severity applies (info, not the catalog's error), and svc is its own project root:
    # ../shared/src leaves it (AML107), as `amlforge lint` says
    assert published == [("AML107", types.DiagnosticSeverity.Error), ("AML201", types.DiagnosticSeverity.Information)]
    shown = subprocess.run([sys.executable, "-m", "amlforge", "lint", ".", "--format", "json"], cwd=project,
                           capture_output=True, text=True, timeout=120)
    cli = sorted((f["rule"], f["severity"]) for f in json.loads(shown.stdout)
                 if f["path"].replace("\\", "/") == "svc/blue.yml")
    assert cli == [("AML107", "error"), ("AML201", "info")]
