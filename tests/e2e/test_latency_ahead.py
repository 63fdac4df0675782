"""Calls made ahead of the editor's request, over stdio against the mock model.

Once the user types into a suggestion the model has finished, the call for what follows its end
starts, so the pause at that end is answered at once, with no call of its own. A deletion that
clears a line starts the call for that line before its first key."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor, texts, until
from mock_codestral import Reply

HEAD = "import math\n\n\ndef area(w, h):\n    a = "
TEXT = HEAD + "\n"
ANSWER = "w * h"
NEXT = "\n    return a"
TTFT = 0.4


def respond(body: dict[str, Any]) -> Reply:
    """The model answers the line alone; at its end, the next line."""
    if body["prompt"].endswith(HEAD):
        return Reply(text=ANSWER, ttft=TTFT)
    if body["prompt"].endswith(HEAD + ANSWER):
        return Reply(text=NEXT, ttft=TTFT)
    return Reply(text="", ttft=TTFT)


async def test_the_end_of_a_suggestion_typed_through_is_answered_at_once(start_server, mock):
    mock.responder = respond
    client = await start_server({"endpoint": mock.url})
    ed = Editor(client, TEXT)
    offset = len(HEAD)
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == [ANSWER]
    assert len(mock.requests) == 1
    # The user types the suggestion key by key: each request is typed through...
    for ch in ANSWER:
        offset = ed.type(offset, ch)
        if offset < len(HEAD + ANSWER):
            rest = texts(await asyncio.wait_for(ed.request(offset), 10))
            assert rest == [ANSWER[offset - len(HEAD) :]]
    # ...and the first key started the one call for what follows the suggestion's end.
    assert len(mock.requests) == 2
    assert mock.requests[1].body["prompt"].endswith(HEAD + ANSWER)
    await asyncio.sleep(TTFT + 0.3)
    started = time.monotonic()
    below = texts(await asyncio.wait_for(ed.request(offset), 10))
    elapsed = time.monotonic() - started
    assert below == [NEXT]
    assert elapsed < TTFT / 2, elapsed
    assert len(mock.requests) == 2


async def test_with_speculation_off_the_end_is_a_call_of_its_own(start_server, mock):
    mock.responder = respond
    client = await start_server({"endpoint": mock.url, "speculateAfterAccept": False})
    ed = Editor(client, TEXT)
    offset = len(HEAD)
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == [ANSWER]
    offset = ed.type(offset, "w")
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == [" * h"]
    await asyncio.sleep(0.3)
    assert len(mock.requests) == 1


CLEARED_HEAD = HEAD[: -len("a = ")]
FULL = HEAD + ANSWER + "\n    return a\n"


def respond_cleared(body: dict[str, Any]) -> Reply:
    """At the cleared line's start the model says the line; elsewhere nothing."""
    if body["prompt"].endswith(CLEARED_HEAD):
        return Reply(text="a = " + ANSWER, ttft=TTFT)
    return Reply(text="", ttft=TTFT)


async def test_a_line_cleared_by_a_deletion_is_asked_for_before_its_first_key(start_server, mock):
    mock.responder = respond_cleared
    client = await start_server({"endpoint": mock.url})
    ed = Editor(client, FULL)
    # The user clears the line's text (select and delete, `cc` in Vim): no request comes...
    offset = ed.delete(len(CLEARED_HEAD), len(HEAD + ANSWER))
    await until(lambda: len(mock.requests) == 1)
    assert mock.requests[0].body["prompt"].endswith(CLEARED_HEAD)
    assert mock.requests[0].body["suffix"].startswith("\n    return a")
    await asyncio.sleep(TTFT + 0.3)
    # ...and the line's first key finds the whole line there, with no call of its own.
    offset = ed.type(offset, "a")
    started = time.monotonic()
    shown = texts(await asyncio.wait_for(ed.request(offset), 10))
    elapsed = time.monotonic() - started
    assert shown == [" = " + ANSWER]
    assert elapsed < TTFT / 2, elapsed
    # The only other call, if any, is the one asked ahead for what follows the line's end.
    assert all(r.body["prompt"].endswith(HEAD + ANSWER) for r in mock.requests[1:])


async def test_without_working_ahead_a_cleared_line_waits_for_a_request(start_server, mock):
    mock.responder = respond_cleared
    client = await start_server({"endpoint": mock.url, "workAhead": False})
    ed = Editor(client, FULL)
    offset = ed.delete(len(CLEARED_HEAD), len(HEAD + ANSWER))
    await asyncio.sleep(0.5)
    assert mock.requests == []
    assert texts(await asyncio.wait_for(ed.request(offset), 10)) == ["a = " + ANSWER]
    assert len(mock.requests) == 1
