"""The language server (pygls): buffers in, diagnostics, hovers and code actions out.

Every analysis runs in the worker process (:class:`.worker.Worker`), one at a time, from a
queue that keeps only the newest text of each buffer (older queued versions are dropped
before they start; a running one whose buffer changed since is killed once it has run
:data:`STALE_AFTER` seconds). Open and save analyse at once and publish, then analyse the
same text again verifying the padding fixes (for the code actions); a change is analysed
after :data:`DEBOUNCE` seconds of quiet, without the fixes. Hovers are served at once from
the last analysis of the buffer that produced a model.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..checks import Finding
from ..report.hover import render_hover
from .analysis import Analysis, Problem, Request
from .locate import definition_span, fix_text, record_at, word_at
from .worker import Worker

DEBOUNCE = 0.4  # seconds of quiet after a change before it is analysed
STALE_AFTER = 1.0  # seconds a stale analysis may still run before it is killed
SOURCE = "abiscope"
_SEVERITY = {"error": types.DiagnosticSeverity.Error,
             "warning": types.DiagnosticSeverity.Warning,
             "note": types.DiagnosticSeverity.Information}

log = logging.getLogger(__name__)


def rule_page(rule: str) -> str:
    """A link to the rule's page (docs/rules/<ID>.md, as installed with abiscope)."""
    page = resources.files("abiscope.checks").joinpath(f"pages/{rule}.md")
    return "file://" + os.path.abspath(str(page))


def _range(line: int, col: int, text: str | None, length: int = 0) -> types.Range:
    """A range on a 1-based line and column (0: the file's first line), over the word there."""
    if line <= 0:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    start = max(col - 1, 0)
    end = start + length
    if text is not None and not length:
        found = word_at(text, line - 1, start)
        end = start + len(found[0]) if found is not None and found[1] == start else start + 1
    return types.Range(types.Position(line - 1, start), types.Position(line - 1, end))


def finding_diagnostic(f: Finding, text: str | None, path: str = "") -> types.Diagnostic:
    """A finding as a diagnostic; one located in another file than ``path`` (an ioctl
    macro's record from an included header) goes on the first line, naming the file."""
    link = rule_page(f.rule)
    here = not path or not f.location.file or \
        os.path.abspath(f.location.file) == os.path.abspath(path)
    where = "" if here else f"{f.location}: "
    return types.Diagnostic(
        range=_range(f.location.line if here else 0, f.location.col, text),
        severity=_SEVERITY[f.severity],
        code=f.rule, code_description=types.CodeDescription(href=link), source=SOURCE,
        message=f"{where}{f.rule} {f.name}: {f.message} [targets: {', '.join(f.targets)}]"
                + (f"\nfix: {f.fix}" if f.fix else ""),
        data={"record": f.record, "rule": f.rule})


def problem_diagnostic(p: Problem, text: str | None) -> types.Diagnostic:
    return types.Diagnostic(range=_range(p.line, p.col, text), severity=_SEVERITY[p.severity],
                            source=SOURCE, message=p.message)


def diagnostics(analysis: Analysis) -> list[types.Diagnostic]:
    return [*(problem_diagnostic(p, analysis.text) for p in analysis.problems),
            *(finding_diagnostic(f, analysis.text, analysis.path) for f in analysis.findings)]


class AbiscopeServer(LanguageServer):
    """The server's state: per buffer its newest analysis, its last one with a model (for
    hovers) and its last one with verified fixes (for code actions)."""

    def __init__(self, worker: Worker | None = None, debounce: float = DEBOUNCE) -> None:
        super().__init__("abiscope", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.worker = worker or Worker()
        self.debounce = debounce
        self.latest: dict[str, Analysis] = {}
        self.good: dict[str, Analysis] = {}
        self.fixed: dict[str, Analysis] = {}
        self.pending: dict[str, Request] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.running: tuple[str, Request, float] | None = None
        self.drainer: asyncio.Task[None] | None = None
        self.versions: dict[str, int] = {}

    # -- scheduling -----------------------------------------------------------------------

    def submit(self, uri: str, fixes: bool, delay: float = 0.0) -> None:
        """Analyse the buffer's current text (after ``delay`` seconds of quiet)."""
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        doc = self.workspace.get_text_document(uri)
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        path = to_fs_path(uri) or doc.path
        request = Request(path=path, text=doc.source, version=version, fixes=fixes)
        if delay > 0:
            loop = asyncio.get_running_loop()
            self.timers[uri] = loop.call_later(delay, self._enqueue, uri, request)
        else:
            self._enqueue(uri, request)

    def _enqueue(self, uri: str, request: Request) -> None:
        self.timers.pop(uri, None)
        older = self.pending.get(uri)
        if older is not None and older.fixes and not request.fixes:
            request = Request(request.path, request.text, request.version, True)
        self.pending[uri] = request  # (replaces a stale queued one: it never starts)
        running = self.running
        if running is not None and running[0] == uri and \
                time.monotonic() - running[2] >= STALE_AFTER:
            self.worker.kill()  # stale and slow: its result would be dropped anyway
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self.pending:
            uri = next(iter(self.pending))
            request = self.pending.pop(uri)
            # the diagnostics first; then, unless the buffer changed meanwhile, the same
            # text again with the padding fixes verified (a second parse per target)
            steps = [replace(request, fixes=False), request] if request.fixes else [request]
            for step in steps:
                if step is not steps[0] and uri in self.pending:
                    break
                result = await self._run(uri, step)
                if result is None or uri not in self.versions:
                    break  # killed (a newer version is queued), or the buffer was closed
                self._store(uri, result)

    async def _run(self, uri: str, request: Request) -> Analysis | None:
        self.running = (uri, request, time.monotonic())
        try:
            return await asyncio.to_thread(self.worker.run, request)
        finally:
            self.running = None

    def _store(self, uri: str, result: Analysis) -> None:
        self.latest[uri] = result
        if result.model is not None:
            self.good[uri] = result
        if result.fixed:
            self.fixed[uri] = result
        if uri in self.pending and self.pending[uri].version > result.version \
                and not result.model:
            return  # a newer version is on its way: keep the diagnostics shown
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=diagnostics(result)))

    def forget(self, uri: str) -> None:
        for table in (self.latest, self.good, self.fixed, self.pending, self.versions):
            table.pop(uri, None)
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    async def idle(self) -> None:
        """Wait until nothing is queued or running (tests and the benchmark)."""
        while self.timers or self.pending or self.running or (
                self.drainer is not None and not self.drainer.done()):
            await asyncio.sleep(0.02)

    # -- answers --------------------------------------------------------------------------

    def hover(self, uri: str, position: types.Position) -> types.Hover | None:
        analysis = self.good.get(uri)
        if analysis is None or analysis.model is None:
            return None
        doc = self.workspace.get_text_document(uri)
        found = record_at(analysis.model, doc.source, analysis.path, position.line,
                          position.character)
        if found is None:
            return None
        record, member = found
        text = render_hover(record, analysis.model, member, analysis.verdicts,
                            analysis.compat_pair, analysis.findings,
                            stale=analysis.text != doc.source)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                        value=text))

    def _verifying(self, uri: str) -> bool:
        """Whether fixes of ``uri`` are queued or being verified."""
        running = self.running
        pending = self.pending.get(uri)
        return (running is not None and running[0] == uri and running[1].fixes) or \
            (pending is not None and pending.fixes)

    async def code_actions(self, uri: str, wanted: types.Range,
                           wait: float = 10.0) -> list[types.CodeAction]:
        """Apply a verified padding fix: offered on a record's definition when the fix
        was verified on every target of each of its findings, for the text as it is
        (waiting up to ``wait`` seconds for a verification under way)."""
        doc = self.workspace.get_text_document(uri)
        deadline = time.monotonic() + wait
        while self._verifying(uri) and time.monotonic() < deadline and (
                uri not in self.fixed or self.fixed[uri].text != doc.source):
            await asyncio.sleep(0.02)
        analysis = self.fixed.get(uri)
        if analysis is None or analysis.model is None or analysis.text != doc.source:
            return []
        by_record: dict[str, list[Finding]] = {}
        for f in analysis.findings:
            if f.record in analysis.fixes:
                by_record.setdefault(f.record, []).append(f)
        actions = []
        for name, findings in by_record.items():
            where = set(analysis.fix_targets.get(name, ()))
            if not all(set(f.targets) <= where for f in findings):
                continue
            record = analysis.model.record(name)
            span = definition_span(doc.source, record) if record is not None else None
            if span is None or not _overlaps(span, wanted):
                continue
            edit = types.TextEdit(range=types.Range(types.Position(*span[0]),
                                                    types.Position(*span[1])),
                                  new_text=fix_text(analysis.fixes[name]))
            actions.append(types.CodeAction(
                title=f"abiscope: make the padding of {name} explicit (verified on "
                      f"{', '.join(analysis.fix_targets[name])})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[finding_diagnostic(f, doc.source, analysis.path)
                             for f in findings],
                edit=types.WorkspaceEdit(changes={uri: [edit]}), is_preferred=True))
        return actions


def _overlaps(span: tuple[tuple[int, int], tuple[int, int]], r: types.Range) -> bool:
    return not (r.end.line < span[0][0] or r.start.line > span[1][0])


def make_server(worker: Worker | None = None, debounce: float = DEBOUNCE) -> AbiscopeServer:
    """The server with its features registered."""
    server = AbiscopeServer(worker, debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AbiscopeServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.submit(params.text_document.uri, fixes=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AbiscopeServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.submit(params.text_document.uri, fixes=False, delay=ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AbiscopeServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.submit(params.text_document.uri, fixes=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AbiscopeServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: AbiscopeServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix]))
    async def code_action(ls: AbiscopeServer, params: types.CodeActionParams
                          ) -> Sequence[types.CodeAction]:
        return await ls.code_actions(params.text_document.uri, params.range)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: AbiscopeServer, *_: Any) -> None:
        ls.worker.close()

    return server
