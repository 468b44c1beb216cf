"""Benchmark ``amlforge server``: diagnostics latency after an edit, p50 and p95.

A script, not a test (no timing is asserted anywhere). It writes a small project (an endpoint
and two deployments) into a temporary folder, starts ``python -m amlforge server`` as an
editor would, opens one deployment document, and sends ``--edits`` changes to it, alternately
introducing and removing a finding. Each latency is the time from sending
``textDocument/didChange`` to receiving the ``textDocument/publishDiagnostics`` of that version
of the document: the lint of the whole project with the edited text, as the user sees it.

Two documents: a small deployment (~12 lines) and a 300-line one (many environment variables,
tags and comments). Goal: <= 50 ms for the 300-line document.

Usage::

    python bench/bench_server.py [--edits 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ENDPOINT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: bench-endpoint
auth_mode: key
traffic:
  blue: 90
  green: 10
"""

SMALL = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: bench-endpoint
model: azureml:bench-model:3
environment: azureml:bench-env:7
instance_type: {sku}
instance_count: 3
request_settings:
  request_timeout_ms: 5000
  max_concurrent_requests_per_instance: 1
liveness_probe:
  initial_delay: 30
"""


def large_deployment(lines: int = 300) -> str:
    """A 300-line deployment: the usual keys, then tags and environment variables with comments."""
    head = SMALL.rstrip("\n").split("\n")
    body = ["tags:"] + [f"  team-{i}: owner-{i}  # who to ask" for i in range(40)]
    body += ["environment_variables:"]
    n = 0
    while len(head) + len(body) < lines:
        body += [f"  # setting {n}", f"  SETTING_{n}: \"value-{n}\""]
        n += 1
    return "\n".join(head + body[: lines - len(head)]) + "\n"


async def measure(doc: Path, text: str, edits: int) -> list[float]:
    client = LanguageClient("amlforge-bench", "1")
    published: dict[int, asyncio.Future] = {}
    uri = from_fs_path(str(doc))

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri and params.version in published and not published[params.version].done():
            published[params.version].set_result(time.perf_counter())

    await client.start_io(sys.executable, "-m", "amlforge", "server")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=from_fs_path(str(doc.parent))))
    client.initialized(types.InitializedParams())
    loop = asyncio.get_running_loop()
    published[1] = loop.create_future()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    await asyncio.wait_for(published[1], 120)
    times = []
    for version in range(2, edits + 2):
        # alternate: a SKU typo (one finding) and the valid SKU (none)
        edited = text.replace("Standard_F4s_v2", "Standard_F4s_v9") if version % 2 else text
        published[version] = loop.create_future()
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=edited)]))
        end = await asyncio.wait_for(published[version], 120)
        times.append((end - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".amlforge.toml").write_text("[tool.amlforge]\n")
        (root / "endpoint.yml").write_text(ENDPOINT)
        (root / "green.yml").write_text(SMALL.format(sku="Standard_F4s_v2").replace("name: blue", "name: green"))
        cases = {
            "small": SMALL.format(sku="Standard_F4s_v2"),
            "300-line": large_deployment().format(sku="Standard_F4s_v2"),
        }
        print(f"amlforge server: diagnostics latency after an edit ({args.edits} edits, whole-project lint)")
        for name, text in cases.items():
            doc = root / "blue.yml"
            doc.write_text(text)
            times = asyncio.run(measure(doc, text, args.edits))
            lines = text.count("\n")
            print(f"  {name:9s} ({lines:3d} lines): p50 {statistics.median(times):6.1f} ms   "
                  f"p95 {pct(times, 95):6.1f} ms   max {max(times):6.1f} ms   (goal <= 50 ms)")


if __name__ == "__main__":
    main()
