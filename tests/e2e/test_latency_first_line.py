"""A new suggestion's first line is shown as soon as the model has written it; the stream reads on,
and the whole multi-line answer is there for the next request at the same place."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor
from mock_codestral import Reply

BODY = "def add(a, b):\n    "
ANSWER = "total = a + b\n    return total\n"
# 4-character chunks: the first line is complete after 4 of 8 chunks.
TOKEN_DELAY = 0.2


async def test_the_first_line_comes_before_the_whole_answer(start_server, mock):
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=TOKEN_DELAY)
    client = await start_server({"endpoint": mock.url, "earlyFirstLine": True})
    ready: list[Any] = []

    @client.feature("fimLsp/blockReady")
    def on_block_ready(params: Any) -> None:
        ready.append(params)

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


async def test_with_early_first_line_off_the_whole_answer_comes_at_once(start_server, mock):
    mock.responder = lambda _body: Reply(text=ANSWER, ttft=0.05, token_delay=0.02)
    client = await start_server({"endpoint": mock.url, "earlyFirstLine": False})
    ed = Editor(client, BODY)
    items = await ed.complete(len(BODY), invoked=True)
    assert [i.insert_text for i in items] == ["total = a + b\n    return total"]
