"""The fim-lsp language server: thin LSP handlers around the completion engine.

Shows AI suggestions as `textDocument/inlineCompletion` items (ghost text) and, for clients
without inline completion (Helix, Eglot), as a `textDocument/completion` item.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import time
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import __version__
from .check import check_command
from .documents import UTF16, DocumentStore, encoding_name
from .engine import Completion, Engine
from .exclusion import workspace_roots
from .items import ACCEPT_COMMAND, completion_items, inline_items
from .protocol import FimProtocol
from .redaction import add_secret, redact
from .settings import SECTION, parse_settings, unwrap
from .stats import Recorder, field_of, partial_accept, shown_text
from .transport import process_alive

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "fimLsp/status"
# A suggestion shown by its first line now has its whole block: ask again to get it.
BLOCK_READY_NOTIFICATION = "fimLsp/blockReady"
CHECK_COMMAND = "fimLsp.check"
# A status change is sent this long after it happens, and only the last of a burst: a status bar
# needs no millisecond precision, and a notification written between a request and its answer
# would delay the answer.
STATUS_DELAY = 0.05
# Seconds between checks that the editor process (initialize's processId) still exists.
PARENT_POLL = 2.0
# Seconds the editor has to answer workspace/configuration (a client may never answer it).
CONFIG_PULL_TIMEOUT = 5.0
# Copilot's notifications, which VS Code (through the extension) and the Neovim plugin send.
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
# Documents whose last suggestion is remembered, for the length of an accepted one.
_ANSWERED = 32


class LspReporter:
    """The engine's messages as LSP notifications: pop-ups once, log lines, a status.

    Every text is redacted on its way out: a model server's error body may repeat the key.
    """

    def __init__(self, server: LanguageServer) -> None:
        self._server = server
        self._shown: set[str] = set()
        self._status: tuple[str, str, float | None, str] | None = None
        self._wanted: tuple[str, str, float | None, str] | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._last: tuple[float | None, str] = (None, "")

    def reset(self) -> None:
        """Settings changed: the same problem may be told again."""
        self._shown.clear()

    def resend_status(self) -> None:
        """Send the next status even if unchanged: clients may drop what came before `initialized`."""
        self._status = None

    def show_once(self, key: str, message: str, *, error: bool) -> None:
        """A pop-up, once per key."""
        if key in self._shown:
            return
        self._shown.add(key)
        message = redact(message)
        (log.error if error else log.warning)("%s", message)
        kind = types.MessageType.Error if error else types.MessageType.Warning
        self._server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, *, error: bool) -> None:
        """A line in the client's log."""
        message = redact(message)
        (log.error if error else log.info)("%s", message)
        kind = types.MessageType.Error if error else types.MessageType.Info
        self._server.window_log_message(types.LogMessageParams(type=kind, message=message))

    def status(self, state: str, message: str = "") -> None:
        """A `fimLsp/status` notification when the state changes (sent a moment later)."""
        self._wanted = (state, redact(message) if message else message, *self._last)
        if self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._send_status()
            return
        self._flush = loop.call_later(STATUS_DELAY, self._send_status)

    def suggestion(self, latency_ms: float, source: str) -> None:
        """The last suggestion's latency and source go out with the status."""
        self._last = (round(latency_ms, 1), source)
        state, message = self._wanted[:2] if self._wanted else ("idle", "")
        self.status(state, message)

    def _send_status(self) -> None:
        self._flush = None
        wanted = self._wanted
        if wanted is None or wanted == self._status:
            return
        self._status = wanted
        state, message, latency, source = wanted
        params: dict[str, Any] = {"state": state, "message": message}
        if source:
            params.update(latencyMs=latency, source=source)
        self._server.protocol.notify(STATUS_NOTIFICATION, params)


class FimLanguageServer(LanguageServer):
    """The server, its documents, settings layers and engine."""

    protocol: FimProtocol

    def __init__(self) -> None:
        super().__init__(
            "fim-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=FimProtocol,
        )
        self.documents = DocumentStore()
        self.reporter = LspReporter(self)
        self.engine = Engine(self.reporter)
        self.engine.block_ready = self._block_ready
        self.encoding: str = UTF16
        self.inline_supported = False
        self.markdown_docs = False
        self.config_pull_supported = False
        self.init_options: dict[str, Any] = {}
        self.client_config: dict[str, Any] = {}
        self.accepted = 0
        self.stats = Recorder()
        self._answered: dict[str, Completion] = {}
        self.exit_code: int | None = None
        self._stopped: asyncio.Future[int] | None = None
        self._parent_watch: asyncio.Task[None] | None = None

    def stop(self, code: int) -> None:
        """End serving with exit code `code` (the first reason to stop decides the code)."""
        if self.exit_code is None:
            self.exit_code = code
        if self._stopped is None:  # served by pygls (TCP): closing its server ends serve_forever
            self.shutdown()  # type: ignore[no-untyped-call]  # untyped in pygls
            return
        if not self._stopped.done():
            self._stopped.set_result(self.exit_code)

    def stopped(self) -> asyncio.Future[int]:
        """A future that `stop` resolves with the exit code (serving stdio awaits it)."""
        if self._stopped is None:
            self._stopped = asyncio.get_running_loop().create_future()
        return self._stopped

    def watch_parent(self, pid: int | None) -> None:
        """Exit once process `pid` (the editor, from initialize's processId) is gone."""
        if pid is None or pid <= 0 or pid == os.getpid() or self._parent_watch is not None:
            return
        if os.name == "nt":  # os.kill(pid, 0) is not a probe there: it sends CTRL_C_EVENT
            return
        if not process_alive(pid):
            # An editor in another PID namespace (a container) is invisible, not gone.
            log.warning("processId %d is not a process this server can see; not watching it", pid)
            return
        self._parent_watch = asyncio.ensure_future(self._watch_parent(pid))

    async def _watch_parent(self, pid: int) -> None:
        # Polling: nothing signals the end of a process that is not our child.
        while True:
            await asyncio.sleep(PARENT_POLL)
            if not process_alive(pid):
                break
        log.info("the editor (process %d) is gone: exiting", pid)
        self.stop(0)

    def _block_ready(self, uri: str, version: int) -> None:
        """Tell the client a first-line suggestion's whole block is ready (its plugin asks again)."""
        self.protocol.notify(BLOCK_READY_NOTIFICATION, {"uri": uri, "version": version})

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failure outside a request's answer: a log line now and then, never a pop-up."""
        trace = getattr(error, "data", None)
        detail = "".join(trace.get("traceback", [])) if isinstance(trace, dict) else ""
        self.protocol.problems(
            f"server error {type(error).__name__}",
            logging.ERROR,
            "%s: %s%s",
            getattr(source, "__name__", source),
            error,
            "\n" + detail if detail else "",
        )

    def answered(self, uri: str, completion: Completion | None, arrived: float) -> None:
        """Count an answer (latency from the request's arrival) for the stats and the status."""
        self.stats.model_calls(self.engine.upstream_calls)
        if completion is not None:
            latency = (time.monotonic() - arrived) * 1000
            self.stats.suggested(completion.source, latency)
            self.reporter.suggestion(latency, completion.source)
            self._answered.pop(uri, None)
            self._answered[uri] = completion
            if len(self._answered) > _ANSWERED:
                del self._answered[next(iter(self._answered))]
        self.stats.maybe_flush()

    def accepted_completion(self, where: Any) -> Completion | None:
        """The completion last answered where an accept command's arguments point, or None."""
        uri = field_of(where, "uri")
        completion = self._answered.get(uri) if isinstance(uri, str) else None
        if completion is None or completion.line != field_of(where, "line"):
            return None
        return completion

    def speculate(self, where: Any, completion: Completion, length: int | None = None) -> None:
        """Tell the engine `completion` was taken (accept command arguments `where`)."""
        uri = field_of(where, "uri")
        doc = self.documents.get(uri) if isinstance(uri, str) else None
        if doc is not None:
            self.engine.accepted(doc, completion, length)

    def flush_stats(self) -> None:
        """Write the counts now (shutdown, exit)."""
        self.stats.model_calls(self.engine.upstream_calls)
        self.stats.flush()

    def apply_settings(self) -> None:
        """Merge the settings layers, tell the user about invalid values, hand them to the engine."""
        settings, problems = parse_settings({**self.init_options, **self.client_config})
        add_secret(settings.api_key)
        for _name, value in settings.headers:
            # A gateway's token in `headers` is as secret as the key.
            add_secret(value)
        if settings != self.engine.settings:
            self.reporter.reset()
        for problem in problems:
            self.reporter.show_once(problem, problem, error=False)
        self.engine.configure(settings)
        self.engine.warm()

    async def pull_configuration(self) -> None:
        """Ask the client for section `fimLsp` (workspace/configuration), when it can answer."""
        if not self.config_pull_supported:
            return
        try:
            result = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
                ),
                CONFIG_PULL_TIMEOUT,
            )
        except asyncio.TimeoutError:
            # A client that never answers: the settings it gave in initialize (or pushed) hold.
            log.warning(
                "workspace/configuration: no answer within %g s; the settings stay as they were",
                CONFIG_PULL_TIMEOUT,
            )
            return
        except Exception as err:  # a client that fails this request must not stop the server
            log.warning("workspace/configuration failed: %s", err)
            return
        if result and isinstance(result[0], dict):
            self.client_config = unwrap(result[0])

    def completions_as_items(self) -> bool:
        """Whether `textDocument/completion` answers (setting `completionItems`)."""
        mode = self.engine.settings.completion_items
        return mode == "on" or (mode == "auto" and not self.inline_supported)


server = FimLanguageServer()
# The counts since the last flush, also when the client ends the process without `shutdown`.
atexit.register(server.flush_stats)


@server.feature(types.INITIALIZE)
def initialize(ls: FimLanguageServer, params: types.InitializeParams) -> None:
    """Read the client's abilities and initialization options."""
    caps = params.capabilities
    # The enum's value ("utf-16"), not its str(), which is "PositionEncodingKind.Utf16".
    ls.encoding = encoding_name(ls.workspace.position_encoding)
    ls.inline_supported = bool(caps.text_document and caps.text_document.inline_completion)
    ls.config_pull_supported = bool(caps.workspace and caps.workspace.configuration)
    item_caps = caps.text_document and caps.text_document.completion
    formats = (
        item_caps and item_caps.completion_item and item_caps.completion_item.documentation_format
    )
    ls.markdown_docs = types.MarkupKind.Markdown in (formats or [])
    ls.init_options = unwrap(params.initialization_options)
    ls.engine.client_name = params.client_info.name if params.client_info else None
    ls.engine.roots = workspace_roots(
        params.root_uri, [f.uri for f in params.workspace_folders or ()]
    )
    ls.apply_settings()


@server.feature(types.INITIALIZED)
async def initialized(ls: FimLanguageServer, params: types.InitializedParams) -> None:
    """Pull the settings the client holds for section `fimLsp`; announce the status."""
    await ls.pull_configuration()
    ls.reporter.resend_status()
    ls.apply_settings()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: FimLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    """Settings changed at run time: pushed in the notification, or to be pulled."""
    pushed = unwrap(params.settings)
    if pushed:
        ls.client_config = pushed
    else:
        await ls.pull_configuration()
    ls.apply_settings()


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(
    ls: FimLanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    """Ghost text for the cursor."""
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        return types.InlineCompletionList(items=[])
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    pos = params.position
    arrived = time.monotonic()
    completion = await ls.engine.complete(doc, pos.line, pos.character, invoked=invoked)
    ls.answered(doc.uri, completion, arrived)
    return inline_items(doc, completion)


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[".", "(", "[", "{", ",", ":", "=", " "]),
)
async def completion(ls: FimLanguageServer, params: types.CompletionParams) -> types.CompletionList:
    """The same suggestion as a completion item, for clients without inline completion."""
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or not ls.completions_as_items():
        return types.CompletionList(is_incomplete=False, items=[])
    invoked = params.context is None or (
        params.context.trigger_kind == types.CompletionTriggerKind.Invoked
    )
    pos = params.position
    arrived = time.monotonic()
    result = await ls.engine.complete(doc, pos.line, pos.character, invoked=invoked, ghost=False)
    ls.answered(doc.uri, result, arrived)
    return completion_items(doc, result, markdown=ls.markdown_docs)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: FimLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    """A save means the user is at work: keep the model connection warm for the next keystroke."""
    ls.engine.warm()


@server.command(ACCEPT_COMMAND)
def accepted(ls: FimLanguageServer, *args: Any) -> None:
    """The user accepted a suggestion (acceptance statistics)."""
    ls.accepted += 1
    where = args[0] if args and isinstance(args[0], dict) else {}
    completion = ls.accepted_completion(where)
    text = completion.text if completion is not None else None
    if completion is not None:
        ls.speculate(where, completion)
    ls.stats.accepted(len(text) if text is not None else 0, text)
    ls.stats.maybe_flush()
    log.info("suggestion accepted (%d so far): %.200s", ls.accepted, args)


@server.command(CHECK_COMMAND)
async def check(ls: FimLanguageServer, *args: Any) -> dict[str, Any]:
    """`fim-lsp check` from the editor: {"ok", "lines", "text"} for the client to show."""
    return await check_command({**ls.init_options, **ls.client_config})


@server.feature(DID_SHOW)
def did_show_completion(ls: FimLanguageServer, params: Any) -> None:
    """The client showed a suggestion (Copilot's notification; acceptance statistics)."""
    ls.stats.shown(shown_text(params))
    ls.stats.maybe_flush()


@server.feature(DID_PARTIALLY_ACCEPT)
def did_partially_accept_completion(ls: FimLanguageServer, params: Any) -> None:
    """The user accepted the first `acceptedLength` UTF-16 units of a suggestion (a word, a line)."""
    text, taken = partial_accept(params)
    ls.stats.partially_accepted(text, taken)
    arguments = field_of(field_of(field_of(params, "item"), "command"), "arguments")
    if isinstance(arguments, (list, tuple)) and arguments and text and taken == len(text):
        # The whole suggestion, taken piece by piece: what follows it is wanted next.
        completion = ls.accepted_completion(arguments[0])
        if completion is not None:
            ls.speculate(arguments[0], completion, taken)
    ls.stats.maybe_flush()


@server.feature(types.SHUTDOWN)
async def shutdown(ls: FimLanguageServer, params: None) -> None:
    """End every request in flight and close the connection pool."""
    ls.flush_stats()
    await ls.engine.aclose()
