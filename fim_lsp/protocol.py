"""The JSON-RPC side of the server: documents kept in fim-lsp's store, every request answered.

pygls's protocol class, hardened: a malformed request gets an error answer (never silence, never
a pop-up), no bookkeeping is kept per handled message, and `exit` ends the process with the code
the protocol asks for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
)
from pygls.protocol.language_server import lsp_method

from .rpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    InvalidMessage,
    RateLimitedLog,
    check_envelope,
    params_problem,
    valid_id,
)

if TYPE_CHECKING:
    from .server import FimLanguageServer

log = logging.getLogger(__name__)


class FimProtocol(LanguageServerProtocol):
    """Keeps documents in fim-lsp's own store, whose edits cost O(edited lines), not O(file).

    Also answers every request (a malformed one with an error, never with silence or a pop-up),
    frees the bookkeeping of every handled message, and ends the process the way the protocol
    asks (`exit`: code 0 after `shutdown`, 1 without).
    """

    _server: FimLanguageServer

    def __init__(self, server: FimLanguageServer, converter: Any) -> None:
        super().__init__(server, converter)
        self.problems = RateLimitedLog(log)
        self.shutdown_requested = False

    # -- documents: plain functions ---------------------------------------------------------
    # pygls 2.1.1 files the future of a notification handled by a generator (or a coroutine) in
    # `_request_futures` under a fresh uuid and never removes it: as generators, these three
    # leaked about 1.9 KB per keystroke. Plain functions get no entry (and cost less).

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        """Track a newly opened document."""
        doc = params.text_document
        opened = self._server.documents.open(
            doc.uri, doc.text, doc.version, doc.language_id, self._server.encoding
        )
        self._server.engine.opened(opened)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        """Apply incremental (or full) changes."""
        doc = self._server.documents.get(params.text_document.uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", params.text_document.uri)
            return
        version = params.text_document.version
        line = 0
        deleted_at: tuple[int, int] | None = None
        inserted: int | None = 0  # unknown after a whole-document change
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                line = start.line
                doc.apply_edit(
                    (start.line, start.character), (end.line, end.character), change.text, version
                )
                deleted_at = None
                if inserted is not None:
                    inserted += len(change.text)
                if not change.text and start != end:
                    deleted_at = min((start.line, start.character), (end.line, end.character))
            else:
                doc.replace_all(change.text, version)
                deleted_at = inserted = None
        self._server.engine.on_edit(doc, line, deleted_at, inserted=inserted)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        """Free a closed document's state."""
        uri = params.text_document.uri
        self._server.documents.close(uri)
        self._server.engine.forget(uri)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Callable[[Any], None],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        # The same pygls leak for every other handler that is a generator or a coroutine (the
        # pygls-internal steps of a generator, async notification handlers): forget the future
        # once it is done. The identity check keeps a reused request id's newer entry.
        def forget_then(future: Any) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]
            callback(future)

        super()._execute_handler(msg_id, handler, forget_then, args, kwargs)

    def _run_generator(self, future: Any, *, gen: Any, result_future: Any) -> None:
        # pygls resumes a generator with the result of the step it waited for: a cancelled step
        # (shutdown, exit) raised CancelledError in a callback, a traceback, and the request
        # waited forever. The whole handler is cancelled instead.
        if future is not None and future.cancelled():
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    # -- every request gets one answer --------------------------------------------------------

    def structure_message(self, data: dict[str, Any]) -> Any:
        """The message as its lsprotocol type, or an InvalidMessage to answer: never raises.

        pygls raises here (before any handler runs), so a request with bad params got no answer
        and the user an "Error in server" pop-up.
        """
        if "jsonrpc" not in data:  # pygls's own readers call this for nested objects too
            return data
        invalid = check_envelope(data)
        if invalid is not None:
            return invalid
        method = data.get("method")
        try:
            if "id" in data:
                if "error" in data:
                    return self._converter.structure(data, types.ResponseErrorMessage)
                if method is None:
                    kind = self._result_types.pop(data["id"], None) or JsonRPCResponseMessage
                    return self._converter.structure(data, kind)
                kind = self.get_message_type(method)
                if kind is None:
                    return self._converter.structure(
                        {"params": None, **data}, JsonRPCRequestMessage
                    )
                message = self._converter.structure(data, kind)
                if not hasattr(message, "id"):
                    return InvalidMessage(
                        "2.0",
                        method,
                        "a notification sent as a request",
                        INVALID_REQUEST,
                        data["id"],
                    )
                return message
            kind = self.get_message_type(method or "")
            if kind is None:
                return self._converter.structure({"params": None, **data}, JsonRPCNotification)
            return self._converter.structure(data, kind)
        except Exception as err:
            if method is None:  # a response to one of ours: fail the request it answers
                return InvalidMessage("2.0", "", params_problem(err), response_to=data["id"])
            return InvalidMessage("2.0", method, params_problem(err), id=data.get("id"))

    def handle_message(self, message: Any) -> None:
        """Answer what cannot be handled; after `shutdown`, refuse requests (except `exit`)."""
        if isinstance(message, dict):  # no "jsonrpc" at all
            message = check_envelope(message) or InvalidMessage(
                "2.0", "", "not a JSON-RPC 2.0 message", INVALID_REQUEST
            )
        if isinstance(message, InvalidMessage):
            self._reject(message)
            return
        if self._shutdown and getattr(message, "method", types.EXIT) != types.EXIT:
            if valid_id(getattr(message, "id", None)) and hasattr(message, "params"):
                self._send_response(
                    message.id,
                    error=types.ResponseError(INVALID_REQUEST, "the server is shutting down"),
                )
            return
        super().handle_message(message)

    def _reject(self, invalid: InvalidMessage) -> None:
        if invalid.response_to is not None:
            self.problems(
                "bad response", logging.WARNING, "a response of the client: %s", invalid.reason
            )
            error = types.ResponseError(INVALID_PARAMS, invalid.reason)
            self._handle_response(invalid.response_to, None, error)
            return
        what = invalid.method[:80] or "message"  # the client's string: bounded in keys and logs
        if invalid.id is None:
            self.problems(
                f"bad notification {what}", logging.WARNING, "%s ignored: %s", what, invalid.reason
            )
            return
        self.problems(
            f"bad request {what}",
            logging.WARNING,
            "%s answered with an error: %s",
            what,
            invalid.reason,
        )
        self._send_response(
            invalid.id, error=types.ResponseError(invalid.code, f"{what}: {invalid.reason}")
        )

    def _known(self, method: str) -> bool:
        return method in self.fm.builtin_features or method in self.fm.features

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        if not self._known(method_name):
            self.problems(
                "unknown request",
                logging.INFO,
                "unknown method %.80r: answered -32601",
                method_name,
            )
            error = types.ResponseError(METHOD_NOT_FOUND, f"unknown method {method_name!r}")
            self._send_response(msg_id, error=error)
            return
        super()._handle_request(msg_id, method_name, params)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name == types.CANCEL_REQUEST and not valid_id(getattr(params, "id", None)):
            self.problems("bad cancel", logging.WARNING, "$/cancelRequest ignored: a bad id")
            return
        if method_name != types.CANCEL_REQUEST and not self._known(method_name):
            # "$/" notifications are optional by the protocol's rules: ignore them silently.
            if not method_name.startswith("$/"):
                self.problems(
                    "unknown notification", logging.INFO, "ignored notification %.80r", method_name
                )
            return
        super()._handle_notification(method_name, params)

    def _handle_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if msg_id not in self._request_futures:
            self.problems("stray response", logging.INFO, "a response to no request: %.80r", msg_id)
            return
        super()._handle_response(msg_id, result, error)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # pygls logs a traceback for every failed request (e.g. each unknown command): answer
        # with the error, log one line now and then.
        if future.cancelled() or future.exception() is None:
            super()._send_handler_result(future, msg_id=msg_id)
            return
        self._request_futures.pop(msg_id, None)
        err = future.exception()
        if isinstance(err, JsonRpcException):
            self.problems(
                "request error", logging.WARNING, "request %.80r: %.200s", msg_id, err.message
            )
            self._send_response(msg_id, error=err.to_response_error())
            return
        self.problems(
            f"request failed {type(err).__name__}",
            logging.ERROR,
            # The message, not the repr: a UnicodeError's repr holds the whole text it failed on.
            "request %.80r failed: %s: %.200s",
            msg_id,
            type(err).__name__,
            err,
            exc_info=err,
        )
        self._send_response(
            msg_id, error=types.ResponseError(INTERNAL_ERROR, f"{type(err).__name__}: {err}")
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Initialize, and watch the editor process (`processId`) so as not to outlive it."""
        self._server.watch_parent(params.process_id)
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """End every request in flight; only `exit` is handled from now on."""
        # A client may send `exit` right behind `shutdown`, before the answer: that is exit 0.
        self.shutdown_requested = True
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current = self.msg_id
        # A copy: cancelling a future runs its callbacks, which remove it from the table.
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]  # plain, as the above
        """End the process: exit code 0 after `shutdown`, 1 without (the protocol says so)."""
        code = 0 if self.shutdown_requested else 1
        log.info("exit %s shutdown: exit code %d", "after" if code == 0 else "without", code)
        self._server.stop(code)
