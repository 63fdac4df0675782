"""A new suggestion's first line is shown as soon as the model has written it (its first words
while it is still streaming, past the budget); the stream reads on, the editor is told as the
line and the block complete, and the whole answer is there for the next request at that place."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor
from lsprotocol import types
from mock_codestral import Reply
from pytest_lsp import client_capabilities

BODY = "def add(a, b):\n    "
ANSWER = "total = a + b\n    return total\n"
# 4-character chunks: the first line is complete after 4 of 8 chunks.
TOKEN_DELAY = 0.2


def block_ready_log(client: Any) -> list[Any]:
    """The fimLsp/blockReady notifications the server sends the client, as they come."""
    ready: list[Any] = []

    @client.feature("fimLsp/blockReady")
    def on_block_ready(params: Any) -> None:
        ready.append(params)

    return ready


async def test_the_first_line_comes_before_the_whole_answer(start_server, mock):
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=TOKEN_DELAY)
    client = await start_server(
        {"endpoint": mock.url, "earlyFirstLine": True, "partialFirstLine": False}
    )
    ready = block_ready_log(client)
    ed = Editor(client, BODY)
    started = time.monotonic()
    items = await ed.complete(len(BODY), invoked=True)
    elapsed = time.monotonic() - started
    assert [i.insert_text for i in items] == ["total = a + b"]
    whole = 0.05 + TOKEN_DELAY * 8
    assert elapsed < whole - 2 * TOKEN_DELAY, elapsed
    assert not ready, "the block is not complete yet"
    await asyncio.sleep(whole)
    # The editor is told the block is there, for the document as it was.
    assert [(r.uri, r.version) for r in ready] == [(ed.uri, ed.version)]
    # The stream was read to its end: the same place again is the multi-line answer, no new call.
    items = await ed.complete(len(BODY), invoked=True)
    assert [i.insert_text for i in items] == ["total = a + b\n    return total"]
    assert len(mock.requests) == 1


async def test_a_slow_first_line_shows_its_words_then_the_line_then_the_block(start_server, mock):
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=TOKEN_DELAY)
    client = await start_server({"endpoint": mock.url})
    ready = block_ready_log(client)
    ed = Editor(client, BODY)
    started = time.monotonic()
    items = await ed.complete(len(BODY), invoked=True)
    elapsed = time.monotonic() - started
    # Past the 250 ms budget the line has streamed "total = " (chunks at 0.05 and 0.25 s): its
    # whole words are shown, before the line is complete (0.65 s).
    [words] = [i.insert_text for i in items]
    assert words.strip() and "total = a + b".startswith(words) and len(words) < 10, words
    assert elapsed < 0.05 + 3 * TOKEN_DELAY, elapsed
    assert not ready
    await asyncio.sleep(0.05 + 4 * TOKEN_DELAY + 0.1 - elapsed)
    # The line is complete: the editor is told, and asking again gives it at once.
    assert [(r.uri, r.version) for r in ready] == [(ed.uri, ed.version)]
    asked = time.monotonic()
    items = await ed.complete(len(BODY), invoked=True)
    assert [i.insert_text for i in items] == ["total = a + b"]
    assert time.monotonic() - asked < TOKEN_DELAY
    # Then the block.
    await asyncio.sleep(4 * TOKEN_DELAY + 0.1)
    assert len(ready) == 2
    items = await ed.complete(len(BODY), invoked=True)
    assert [i.insert_text for i in items] == ["total = a + b\n    return total"]
    assert len(mock.requests) == 1


async def test_a_completion_list_item_is_never_a_first_line_still_streaming(start_server, mock):
    # A client without inline completion (Helix, Eglot): an item is picked from a menu, and
    # nothing asks again when the line is complete.
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=TOKEN_DELAY)
    client = await start_server({"endpoint": mock.url}, capabilities=client_capabilities("neovim"))
    ed = Editor(client, BODY)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=ed.uri),
            position=ed.position(len(BODY)),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(result, types.CompletionList)
    assert [i.text_edit.new_text for i in result.items if i.text_edit] == ["total = a + b"]


async def test_with_early_first_line_off_the_whole_answer_comes_at_once(start_server, mock):
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=0.02)
    client = await start_server({"endpoint": mock.url, "earlyFirstLine": False})
    ed = Editor(client, BODY)
    items = await ed.complete(len(BODY), invoked=True)
    assert [i.insert_text for i in items] == ["total = a + b\n    return total"]
