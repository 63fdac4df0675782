"""Typing does not grow the server: RSS after thousands of keystrokes stays where it was."""

from __future__ import annotations

from lsp_support import API_KEY, server_env
from mock_codestral import MockCodestral, Reply
from raw_lsp import RawServer

URI = "file:///tmp/memory.py"
# pygls 2.1.1 kept ~1.9 KB per didChange (9 MB per 5,000); without that leak growth is < 1 MB.
LIMIT_KIB = 4 * 1024


def test_rss_does_not_grow_with_keystrokes(mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="pass")
    with RawServer(env=server_env(MISTRAL_API_KEY=API_KEY)) as server:
        server.initialize({"endpoint": mock.url, "debounceMs": 0})
        samples = []
        version = 1
        for doc in range(6):
            uri = f"file:///tmp/memory{doc}.py"
            server.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
            )
            for k in range(1000):
                version += 1
                pos = {"line": 0, "character": k}
                server.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"range": {"start": pos, "end": pos}, "text": "x"}],
                    },
                )
            # The answer comes after every change sent before it has been handled.
            params = {
                "textDocument": {"uri": uri},
                "position": {"line": 0, "character": 1000},
                "context": {"triggerKind": 1},
            }
            assert "result" in server.call("textDocument/inlineCompletion", params, timeout=30)
            server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            samples.append(server.rss_kib())
        growth = samples[-1] - samples[0]  # after the first 1,000 keystrokes: warm
        assert growth < LIMIT_KIB, f"RSS grew {growth} KiB over 5,000 keystrokes: {samples}"
