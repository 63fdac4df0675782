"""Reading on past the suggestion, over stdio against the mock model: the stream goes on after
the suggestion's end (a dedent), so the pause on the next line, after the user typed the
suggestion and pressed Enter, is answered from what the model already said, with no new call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor, texts
from mock_codestral import Reply

HEAD = "import math\n\n\ndef area(w, h):\n    return "
TEXT = HEAD + "\n"
ANSWER = "w * h"
NEXT = "\n\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n"
TTFT = 0.4


def respond(body: dict[str, Any]) -> Reply:
    """The model answers the body's line, then goes on with the next definition."""
    if not body["prompt"].endswith(HEAD):
        return Reply(text="", ttft=TTFT)
    return Reply(text=ANSWER + NEXT, ttft=TTFT, token_delay=0.005)


async def test_the_next_line_is_answered_from_what_the_stream_read_on(start_server, mock):
    mock.responder = respond
    client = await start_server({"endpoint": mock.url})
    ed = Editor(client, TEXT)
    offset = len(HEAD)
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == [ANSWER]
    # The user reads the suggestion while the stream reads on, then types it (the block ends
    # there: nothing to add at the line's end)...
    await asyncio.sleep(0.2)
    offset = ed.type(offset, ANSWER)
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == []
    # ...and presses Enter: the next definition, read on by the first stream.
    offset = ed.type(offset, "\n")
    started = time.monotonic()
    below = texts(await asyncio.wait_for(ed.request(offset), 10))
    elapsed = time.monotonic() - started
    assert [t.lstrip("\n") for t in below] == ["def perimeter(w, h):\n    return 2 * (w + h)"]
    assert len(mock.requests) == 1
    assert elapsed < TTFT / 2, elapsed


async def test_with_read_on_lines_0_the_next_line_is_a_new_call(start_server, mock):
    mock.responder = lambda body: Reply(text=ANSWER + NEXT, ttft=0.05, token_delay=0.005)
    client = await start_server({"endpoint": mock.url, "readOnLines": 0})
    ed = Editor(client, TEXT)
    offset = len(HEAD)
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == [ANSWER]
    offset = ed.type(offset, ANSWER + "\n\n\ndef perimeter(w, h):\n")
    await asyncio.wait_for(ed.request(offset), 10)
    assert len(mock.requests) == 2
