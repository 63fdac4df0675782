"""Typing does not grow the server: RSS after thousands of keystrokes stays where it was."""

from __future__ import annotations

from lsp_support import API_KEY, server_env
from mock_codestral import MockCodestral, Reply
from raw_lsp import RawServer
from soak import soak

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


def test_rss_stays_flat_with_the_default_settings_pauses_and_accepts() -> None:
    # The soak's --work-ahead mode: the default settings (calls ahead of a pause, the next
    # suggestion asked for after an accept) and a model that knows what is typed, so streams are
    # kept, adopted and typed through, and suggestions accepted, over many documents opened and
    # closed. Each of those keeps per-document state that must be freed.
    result = soak(
        8000,
        warmup=2000,
        sample=500,
        documents=5,
        per_document=400,
        ask_every=8,
        max_seconds=120,
        work_ahead=True,
    )
    assert result["keystrokes"] == 8000, result
    assert result["accepted"] >= 50 and result["model_requests"] >= 200, result
    assert result["shutdown_ok"] and result["exit_code"] == 0, result
    growth = result["growth_after_warmup_mb"]
    assert growth * 1024 < LIMIT_KIB, f"RSS grew {growth} MB: {result['samples']}"
