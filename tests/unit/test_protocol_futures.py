"""The protocol forgets every handled message: pygls 2.1.1 kept one future per notification."""

from __future__ import annotations

import asyncio
from typing import Any

from mock_codestral import MockCodestral, Reply

from fim_lsp.server import FimLanguageServer

URI = "file:///tmp/futures.py"


class Sink:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass


def feed(server: FimLanguageServer, message: dict[str, Any]) -> None:
    """One message as the transport hands it over."""
    protocol = server.protocol
    protocol.handle_message(protocol.structure_message({"jsonrpc": "2.0", **message}))


def change(version: int, char: int) -> dict[str, Any]:
    """A one-character didChange."""
    pos = {"line": 0, "character": char}
    return {
        "method": "textDocument/didChange",
        "params": {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": pos, "end": pos}, "text": "x"}],
        },
    }


async def test_no_future_is_kept_per_handled_message(mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="pass")
    server = FimLanguageServer()
    server.protocol.set_writer(Sink())
    table = server.protocol._request_futures
    feed(
        server,
        {
            "id": 1,
            "method": "initialize",
            "params": {
                "processId": None,
                "rootUri": None,
                "capabilities": {"textDocument": {"inlineCompletion": {}}},
                "initializationOptions": {"endpoint": mock.url, "debounceMs": 0},
            },
        },
    )
    feed(server, {"method": "initialized", "params": {}})
    await asyncio.sleep(0.05)
    baseline = len(table)
    for round_ in range(5):
        uri = f"file:///tmp/futures{round_}.py"
        feed(
            server,
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": ""}
                },
            },
        )
        for k in range(200):
            feed(server, change(2 + k, k))
        feed(server, {"method": "workspace/didChangeConfiguration", "params": {"settings": {}}})
        feed(server, {"method": "$/setTrace", "params": {"value": "off"}})
        feed(
            server,
            {
                "id": f"inline-{round_}",
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": URI},
                    "position": {"line": 0, "character": 200},
                    "context": {"triggerKind": 1},
                },
            },
        )
        feed(
            server,
            {
                "id": f"command-{round_}",
                "method": "workspace/executeCommand",
                "params": {"command": "fimLsp.accepted", "arguments": [uri]},
            },
        )
        feed(server, {"method": "textDocument/didClose", "params": {"textDocument": {"uri": URI}}})
        await asyncio.sleep(0.2)  # every handler (the request to the mock too) has finished
    assert baseline == 0 and len(table) == 0, f"{len(table)} futures kept after 1,000+ messages"
    await server.engine.aclose()


def test_a_failing_notification_handler_is_logged_not_popped_up(caplog: Any) -> None:
    from pygls.exceptions import FeatureNotificationError, JsonRpcInternalError

    server = FimLanguageServer()
    sink = Sink()
    server.protocol.set_writer(sink)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        error = JsonRpcInternalError.of(sys.exc_info())
    for _ in range(50):
        server.report_server_error(error, FeatureNotificationError)
    assert b"window/showMessage" not in sink.data
    lines = [r for r in caplog.records if "boom" in r.getMessage()]
    assert len(lines) == 1 and "Traceback" not in lines[0].getMessage()
    assert "test_protocol_futures.py" in lines[0].getMessage()  # where it failed, once


def test_a_failed_request_is_answered_and_logged_without_the_text_it_failed_on(
    caplog: Any,
) -> None:
    import concurrent.futures

    server = FimLanguageServer()
    sink = Sink()
    server.protocol.set_writer(sink)
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    # A UnicodeError's repr holds the whole string it failed on: here, the user's code.
    code = "def private_code():\n    return '\ud800'\n"
    future.set_exception(UnicodeEncodeError("utf-8", code, 34, 35, "surrogates not allowed"))
    server.protocol._send_handler_result(future, msg_id=7)
    assert b'"id":7' in sink.data.replace(b" ", b"") and b"-32603" in sink.data
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "UnicodeEncodeError" in logged and "surrogates not allowed" in logged
    assert "private_code" not in logged
