"""`sparklint server`: the Language Server Protocol face of the engine, over stdio.

The LSP loop only records what the editor sent; one analysis thread checks the project with
every open document's unsaved text overlaid on disk. Edits are debounced; a run whose inputs an
edit has since changed is dropped, never published, and every publication carries the version
of the document it was computed from.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from sparklint import __version__
from sparklint.server import convert
from sparklint.server.session import Analysis, Session

DEBOUNCE_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The open documents at one moment: text and version by URI, and the generation counter."""

    generation: int
    texts: dict[str, str]
    versions: dict[str, int | None]


@dataclass(slots=True)
class Published:
    version: int | None
    diagnostics: list[types.Diagnostic] = field(default_factory=list)


class SparklintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("sparklint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session: Session | None = None
        self.root_hint: Path | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.analysis: Analysis | None = None
        self.analysed_texts: dict[str, str] = {}  # the texts `analysis` was computed from, by relative path
        self.published: dict[str, Published] = {}  # by URI
        self._generation = 0
        self._pending: Snapshot | None = None
        self._due = 0.0
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None

    # ------------------------------------------------------------ from the LSP loop

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """`window/logMessage`, from any thread."""
        params = types.LogMessageParams(type=kind, message=message)
        if self.loop is not None and threading.current_thread() is not threading.main_thread():
            self.loop.call_soon_threadsafe(self.window_log_message, params)
        else:
            self.window_log_message(params)

    def ensure_session(self, document_uri: str | None = None) -> Session | None:
        if self.session is None:
            hint = self.root_hint
            if hint is None and document_uri is not None:
                path = convert.uri_to_path(document_uri)
                hint = path.parent if path is not None else None
            if hint is None:
                return None
            self.session = Session(hint, lambda message: self.log(message, types.MessageType.Warning))
            self.log(f"sparklint {__version__}: project root {self.session.root}")
        return self.session

    def schedule(self, delay: float = DEBOUNCE_SECONDS) -> None:
        """Ask for an analysis of the documents as they are now, after `delay` without a newer edit."""
        texts: dict[str, str] = {}
        versions: dict[str, int | None] = {}
        for document in self.workspace.text_documents.values():
            # pygls keys its documents by the decoded URI; diagnostics go to the URI the editor sent
            texts[document.uri] = document.source
            versions[document.uri] = document.version
        with self._wake:
            self._generation += 1
            self._pending = Snapshot(self._generation, texts, versions)
            self._due = time.monotonic() + delay
            self._wake.notify()
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="sparklint-analysis", daemon=True)
            self._worker.start()

    def current_generation(self) -> int:
        with self._wake:
            return self._generation

    # ------------------------------------------------------------ the analysis thread

    def _work(self) -> None:
        while True:
            with self._wake:
                while self._pending is None or time.monotonic() < self._due:
                    self._wake.wait(None if self._pending is None else max(self._due - time.monotonic(), 0.0))
                snapshot, self._pending = self._pending, None
            try:
                overlays = self._analyse(snapshot)
                if overlays is not None and self._idle():
                    self.session.prepare(overlays)  # the first edit after opening need not load the project
            except Exception as error:  # noqa: BLE001 - one failed analysis never ends the server
                self.log(f"sparklint: internal error in the analysis: {type(error).__name__}: {error}\n"
                         f"{traceback.format_exc()}", types.MessageType.Error)

    def _idle(self) -> bool:
        with self._wake:
            return self._pending is None and self.session is not None

    def _analyse(self, snapshot: Snapshot) -> dict[str, str] | None:
        """Analyse and publish; the overlays analysed, or None when there was no session."""
        session = self.session
        if session is None:
            return None
        overlays: dict[str, str] = {}
        for uri, text in snapshot.texts.items():
            path = convert.uri_to_path(uri)
            rel = session.relative(path) if path is not None else None
            if rel is not None:
                overlays[rel] = text
        started = time.perf_counter()
        analysis = session.analyse(overlays)
        if self.current_generation() != snapshot.generation:
            return overlays  # a newer edit arrived while this ran: its own run will publish
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self._publish, snapshot, analysis, overlays, time.perf_counter() - started)
        return overlays

    # ------------------------------------------------------------ back on the LSP loop

    def _publish(self, snapshot: Snapshot, analysis: Analysis, overlays: dict[str, str], seconds: float) -> None:
        if self.current_generation() != snapshot.generation or self.session is None:
            return  # superseded between the run and this callback
        session = self.session
        self.analysis = analysis
        self.analysed_texts = overlays
        lines_cache: dict[str, list[str] | None] = {}

        def lines_of(rel: str) -> list[str] | None:
            if rel not in lines_cache:
                if rel in overlays:
                    lines_cache[rel] = overlays[rel].splitlines()
                else:
                    try:
                        lines_cache[rel] = (session.root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
                    except OSError:
                        lines_cache[rel] = None
            return lines_cache[rel]

        for uri, version in snapshot.versions.items():
            path = convert.uri_to_path(uri)
            rel = session.relative(path) if path is not None else None
            findings = analysis.by_path.get(rel, ()) if rel is not None else ()
            diagnostics = [convert.diagnostic(finding, session.root, lines_of) for finding in findings]
            before = self.published.get(uri)
            if before is not None and before.version == version and before.diagnostics == diagnostics:
                continue
            self.published[uri] = Published(version, diagnostics)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))
        timings = analysis.result.timings
        phases = ", ".join(f"{name} {value:.2f}s" for name, value in timings.phases) if timings else ""
        self.log(f"sparklint: checked {analysis.result.files_checked} files in {seconds:.2f}s ({phases})",
                 types.MessageType.Log)

    def finding_at(self, uri: str, position: types.Position):
        """The finding of the last analysis whose range holds `position` in the document `uri`."""
        if self.analysis is None or self.session is None:
            return None
        path = convert.uri_to_path(uri)
        rel = self.session.relative(path) if path is not None else None
        if rel is None:
            return None
        lines = self.analysed_texts[rel].splitlines() if rel in self.analysed_texts else None
        for finding in self.analysis.by_path.get(rel, ()):
            if convert.contains(convert.lsp_range(finding.location, lines), position):
                return finding
        return None


server = SparklintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: SparklintServer, params: types.InitializeParams) -> None:
    ls.loop = asyncio.get_running_loop()
    folders = params.workspace_folders or []
    uri = folders[0].uri if folders else params.root_uri
    path = convert.uri_to_path(uri) if uri else None
    if path is None and params.root_path:
        path = Path(params.root_path)
    ls.root_hint = path


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SparklintServer, params: types.DidOpenTextDocumentParams) -> None:
    if ls.ensure_session(params.text_document.uri) is not None:
        ls.schedule(delay=0.0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SparklintServer, params: types.DidChangeTextDocumentParams) -> None:
    if ls.ensure_session(params.text_document.uri) is not None:
        ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: SparklintServer, params: types.DidSaveTextDocumentParams) -> None:
    if ls.ensure_session(params.text_document.uri) is not None:
        ls.schedule(delay=0.0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SparklintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    if ls.published.pop(uri, None) is not None:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    if ls.session is not None:
        ls.schedule()  # its saved text may differ from the buffer other files were checked against


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: SparklintServer, params: types.HoverParams) -> types.Hover | None:
    finding = ls.finding_at(params.text_document.uri, params.position)
    if finding is None:
        return None
    from sparklint.catalogue import rule_by_code

    rule = rule_by_code().get(finding.rule)
    text = convert.hover_markdown(finding, rule.summary if rule else None, rule.slug if rule else None)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: SparklintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    lines = document.lines
    actions: list[types.CodeAction] = []
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else None
        if diagnostic.source != convert.SOURCE or data is None or "rule" not in data:
            continue
        line = int(data.get("line", diagnostic.range.start.line))
        if not 0 <= line < len(lines):
            continue
        edit = convert.noqa_edit(lines[line], line, str(data["rule"]), str(data.get("comment", "#")))
        if edit is None:
            continue
        actions.append(types.CodeAction(
            title=f"Suppress {data['rule']} on this line with `{data.get('comment', '#')} noqa: {data['rule']}`",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={uri: [edit]}),
        ))
    return actions


def serve() -> int:
    """Serve on stdin/stdout. The protocol gets its own copies of both descriptors; descriptor 0
    becomes /dev/null and descriptor 1 stderr, so that nothing else (a stray print, a parsing
    worker process) can write into the protocol stream, and a forked parsing worker never waits
    on the lock of the stdin the protocol's reader thread holds."""
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, sys.stdin.fileno())
    os.close(null)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server.start_io(stdin=protocol_in, stdout=protocol_out)
    return 0 if getattr(server.protocol, "_shutdown", True) else 1  # LSP: `exit` without `shutdown` is 1
