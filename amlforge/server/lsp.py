"""``amlforge server``: the Language Server Protocol over stdio, on pygls.

Diagnostics on open, change and save (for az-ml YAML, amlforge.yaml, conda files, score.py and
the configuration), hover (a finding's rule docs; a key's field docs), completion (keys,
SKUs, enumerated values) and code actions (each finding's fix, a fix-all of the safe ones, and
"suppress this rule on this line"). Every handler catches its own errors: bad input, a
half-typed document or a bug in one request is logged and answered with nothing, and the
server goes on.
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from amlforge import __version__
from amlforge.policies.registry import Finding
from amlforge.server.core import (
    LINTED_SUFFIXES,
    SEVERITIES,
    Session,
    completions,
    context_at,
    field_doc,
    finding_range,
    model_for,
    rule_doc,
    suppression_edit,
)

log = logging.getLogger("amlforge.server")

#: Kind of the fix-all code action (editors run it on save with "source.fixAll").
FIX_ALL = types.CodeActionKind.SourceFixAll + ".amlforge"


class AmlforgeServer(LanguageServer):
    """A pygls server with the editor's documents and the findings last published."""

    def __init__(self) -> None:
        super().__init__("amlforge", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = Session()
        #: uri -> findings published there (for hover and code actions)
        self.published: dict[str, list[Finding]] = {}
        #: root -> uris that got diagnostics from that root's last lint (to clear them later)
        self.by_root: dict[Path, set[str]] = {}

    # -- documents -----------------------------------------------------------------------------

    def version_of(self, uri: str) -> int | None:
        """The version of an open document (None for files the editor does not have open)."""
        path = _path(uri)
        if path is None or os.path.normpath(os.path.abspath(path)) not in self.session.documents:
            return None
        return self.workspace.get_text_document(uri).version

    def text_of(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def lines_of(self, uri: str) -> list[str]:
        path = _path(uri)
        text = self.session.documents.get(os.path.normpath(os.path.abspath(path))) if path else None
        if text is None and path is not None:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
        return (text or "").splitlines()

    def relint(self, uri: str) -> None:
        """Lint the project of ``uri`` and publish diagnostics to every file with findings
        (and empty ones to files whose findings went away)."""
        path = _path(uri)
        if path is None or not path.name.endswith(LINTED_SUFFIXES):
            return
        outcome = self.session.lint(path)
        publish: dict[str, list[types.Diagnostic]] = {}
        self_findings: dict[str, list[Finding]] = {}
        for file, findings in outcome.findings.items():
            file_uri = from_fs_path(str(file)) or str(file)
            lines = self.lines_of(file_uri)
            publish[file_uri] = [self.diagnostic(f, lines) for f in findings]
            self_findings[file_uri] = findings
        if outcome.error is not None:
            # a bad configuration or an unreadable project: say so on the document, never exit
            e = outcome.error
            line = max((e.location.line if e.location else 1) - 1, 0)
            target = uri
            if e.location is not None and e.location.file and e.location.line:
                where = from_fs_path(os.path.abspath(e.location.file))
                target = where or uri
            publish.setdefault(target, []).append(types.Diagnostic(
                range=types.Range(types.Position(line, 0), types.Position(line, 1000)),
                message=f"amlforge: {e.message}" + (f"\nhint: {e.hint}" if e.hint else ""),
                severity=types.DiagnosticSeverity.Error, source="amlforge"))
        before = self.by_root.get(outcome.root, set())
        for stale in before - set(publish):
            publish[stale] = []
        publish.setdefault(uri, [])
        # the document itself first: a client waiting for its diagnostics gets them first
        for target, diagnostics in sorted(publish.items(), key=lambda kv: kv[0] != uri):
            self.published[target] = self_findings.get(target, [])
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=target, diagnostics=diagnostics, version=self.version_of(target)))
        self.by_root[outcome.root] = {u for u, d in publish.items() if d}

    def diagnostic(self, f: Finding, lines: list[str]) -> types.Diagnostic:
        line, column, end_line, end_column = finding_range(f, lines)
        message = f.message + (f"\nhint: {f.hint}" if f.hint else "")
        data: dict[str, Any] = {"rule": f.rule}
        if f.fix is not None:
            data["fix"] = f.fix.to_dict()
        return types.Diagnostic(
            range=types.Range(_position(lines, line, column), _position(lines, end_line, end_column)),
            message=message, severity=types.DiagnosticSeverity(SEVERITIES[f.severity]),
            code=f.rule, source="amlforge", data=data)


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def _position(lines: list[str], line: int, column: int) -> types.Position:
    """An amlforge position (1-based, characters) as an LSP one (0-based, UTF-16 code units)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    prefix = text[:max(column - 1, 0)]
    return types.Position(max(line - 1, 0), len(prefix.encode("utf-16-le")) // 2)


def _column(lines: list[str], position: types.Position) -> int:
    """The 1-based character column of an LSP position."""
    text = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(text):
        if units >= position.character:
            return i + 1
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) + 1


server = AmlforgeServer()


def _guarded(name: str):  # noqa: ANN202 - a decorator
    """Log and swallow any error of a handler: a language server must not die on one request."""

    def wrap(func):  # noqa: ANN001, ANN202
        def handler(ls: AmlforgeServer, params: Any) -> Any:
            try:
                return func(ls, params)
            except Exception as e:  # noqa: BLE001
                log.error("%s failed: %s\n%s", name, e, traceback.format_exc())
                try:
                    ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"amlforge {name}: {e}"))
                except Exception:  # noqa: BLE001
                    pass
                return None
        handler.__name__ = func.__name__
        return handler

    return wrap


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@_guarded("didOpen")
def did_open(ls: AmlforgeServer, params: types.DidOpenTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is not None:
        ls.session.open(path, params.text_document.text)
    ls.relint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@_guarded("didChange")
def did_change(ls: AmlforgeServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    path = _path(uri)
    if path is not None:
        ls.session.open(path, ls.text_of(uri))
    ls.relint(uri)  # one project lint publishes for every file of the project, open or not


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@_guarded("didSave")
def did_save(ls: AmlforgeServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.relint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@_guarded("didClose")
def did_close(ls: AmlforgeServer, params: types.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is not None:
        ls.session.close(path)
    ls.relint(params.text_document.uri)  # the saved text is what counts now


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@_guarded("didChangeWatchedFiles")
def did_change_watched_files(ls: AmlforgeServer, params: types.DidChangeWatchedFilesParams) -> None:
    """A file changed on disk (a branch switch, a tool): lint again the projects with open documents."""
    roots = {ls.session.root_of(Path(p)) for p in ls.session.documents}
    for root in roots:
        for p in sorted(ls.session.documents):
            if ls.session.root_of(Path(p)) == root:
                ls.relint(from_fs_path(p))
                break


@server.feature(types.TEXT_DOCUMENT_HOVER)
@_guarded("hover")
def hover(ls: AmlforgeServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    lines = ls.text_of(uri).splitlines()
    pos = params.position
    parts = []
    for f in ls.published.get(uri, []):
        line, column, end_line, end_column = finding_range(f, lines)
        start, end = _position(lines, line, column), _position(lines, end_line, end_column)
        if (start.line, start.character) <= (pos.line, pos.character) <= (end.line, end.character):
            doc = rule_doc(f.rule)
            if doc and doc not in parts:
                parts.append(doc)
    if not parts:
        path = _path(uri)
        if path is not None and path.suffix in (".yml", ".yaml"):
            doc = _key_doc(path, ls.text_of(uri), lines, pos)
            if doc:
                parts.append(doc)
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


def _key_doc(path: Path, text: str, lines: list[str], pos: types.Position) -> str | None:
    if pos.line >= len(lines):
        return None
    line = lines[pos.line]
    import re

    m = re.match(r"^(\s*(?:-\s+)?)([^\s#:'\"][^#:]*?)\s*:(?:\s|$)", line)
    if not m:
        return None
    column = _column(lines, pos)
    if not (len(m.group(1)) < column <= len(m.group(1)) + len(m.group(2)) + 1):
        return None
    cls = model_for(path, text)
    if cls is None:
        return None
    ctx = context_at(lines, pos.line + 1, len(m.group(1)) + 1)
    return field_doc(cls, ctx.parent, m.group(2).strip())


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", " "]))
@_guarded("completion")
def completion(ls: AmlforgeServer, params: types.CompletionParams) -> types.CompletionList | None:
    uri = params.text_document.uri
    path = _path(uri)
    if path is None or path.suffix not in (".yml", ".yaml"):
        return None
    text = ls.text_of(uri)
    lines = text.splitlines() or [""]
    column = _column(lines, params.position) if params.position.line < len(lines) else 1
    items = []
    for c in completions(path, text, params.position.line + 1, column):
        items.append(types.CompletionItem(
            label=c.label, detail=c.detail or None,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, c.documentation) if c.documentation else None,
            kind=types.CompletionItemKind.Property if c.is_key else types.CompletionItemKind.EnumMember,
            insert_text=c.insert or c.label))
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
@_guarded("codeAction")
def code_action(ls: AmlforgeServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    lines = ls.text_of(uri).splitlines()
    wanted = params.context.only
    actions: list[types.CodeAction] = []
    findings = ls.published.get(uri, [])
    req = params.range
    if not wanted or any(k.startswith(types.CodeActionKind.QuickFix) for k in wanted):
        for f in findings:
            line, column, end_line, end_column = finding_range(f, lines)
            start, end = _position(lines, line, column), _position(lines, end_line, end_column)
            if (end.line, end.character) < (req.start.line, req.start.character) or \
                    (start.line, start.character) > (req.end.line, req.end.character):
                continue
            diag = ls.diagnostic(f, lines)
            if f.fix is not None and not f.fatal:
                edits = _workspace_edit(ls, f.fix.edits)
                if edits is not None:
                    title = f.fix.title + ("" if f.fix.safe else " (unsafe)")
                    actions.append(types.CodeAction(title=f"{f.rule}: {title}", kind=types.CodeActionKind.QuickFix,
                                                    diagnostics=[diag], edit=edits, is_preferred=f.fix.safe))
            sline, scol, stext = suppression_edit(lines, line, f.rule)
            pos = _position(lines, sline, scol)
            actions.append(types.CodeAction(
                title=f"Suppress {f.rule} on this line", kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(types.Range(pos, pos), stext)]})))
    if not wanted or any(k.startswith(types.CodeActionKind.SourceFixAll) or k == types.CodeActionKind.Source
                         for k in wanted):
        fix_all = _fix_all(ls, uri, findings)
        if fix_all is not None:
            actions.append(fix_all)
    return actions


def _workspace_edit(ls: AmlforgeServer, edits: Any) -> types.WorkspaceEdit | None:
    changes: dict[str, list[types.TextEdit]] = {}
    for e in edits:
        target = from_fs_path(os.path.abspath(e.file))
        if target is None:
            return None
        lines = ls.lines_of(target)
        changes.setdefault(target, []).append(types.TextEdit(
            types.Range(_position(lines, e.line, e.column), _position(lines, e.end_line, e.end_column)), e.text))
    return types.WorkspaceEdit(changes=changes)


def _fix_all(ls: AmlforgeServer, uri: str, findings: list[Finding]) -> types.CodeAction | None:
    from amlforge.specs.edits import apply_fixes

    fixes = [f.fix for f in findings if f.fix is not None and f.fix.safe and not f.fatal]
    path = _path(uri)
    if not fixes or path is None:
        return None
    display = fixes[0].edits[0].file
    mine = [fx for fx in fixes if all(os.path.abspath(e.file) == os.path.abspath(str(path)) for e in fx.edits)]
    if not mine:
        return None
    display = mine[0].edits[0].file
    text = ls.text_of(uri)
    new, applied = apply_fixes(text, mine, display)
    if not applied or new == text:
        return None
    lines = text.splitlines()
    end = _position(lines, len(lines) + 1, 1) if text.endswith("\n") else _position(lines, len(lines), len(lines[-1]) + 1)
    whole = types.Range(types.Position(0, 0), end)
    return types.CodeAction(title=f"amlforge: fix all ({len(applied)} safe fixes)", kind=FIX_ALL,
                            edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(whole, new)]}))


def main() -> None:
    """Serve over stdio until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="amlforge server: %(message)s")
    server.start_io()


__all__ = ["AmlforgeServer", "main", "server"]
