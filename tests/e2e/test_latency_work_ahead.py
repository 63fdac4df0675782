"""Work ahead of the pause, over stdio against the mock model: while the user types, the call
starts where a pause is likely and later keys that agree with it join it, so at the pause the
answer is already arriving instead of waiting out a debounce and the model's whole latency."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor
from mock_codestral import Reply

HEAD = "from geometry import scale\n\n\ndef area(w, h):\n    return "
TEXT = HEAD + "\n"
TARGET = "scale(w, h) * factor"
PAUSE_AT = len("scale(w, ")
TTFT = 0.4
GAP = 0.06  # shorter than the 75 ms debounce, so only working ahead starts a call early


def respond(body: dict[str, Any]) -> Reply:
    """The model knows the line being typed: it answers the rest of it."""
    prompt = body["prompt"]
    typed = prompt[prompt.rfind(HEAD) + len(HEAD) :] if HEAD in prompt else None
    if typed is None or not TARGET.startswith(typed):
        return Reply(text="", ttft=TTFT)
    return Reply(text=TARGET[len(typed) :], ttft=TTFT, token_delay=0.005)


async def type_then_pause(ed: Editor, keys: list[float]) -> tuple[float, list[Any]]:
    """Type up to the pause as VS Code does (a request per key, the previous one cancelled);
    the time from the last key to the answer, and the answer's items. `keys`: when each key
    was typed."""
    offset = len(HEAD)
    previous: asyncio.Future[Any] | None = None
    previous_id = ""
    for n, ch in enumerate(TARGET[:PAUSE_AT]):
        if previous is not None and not previous.done():
            ed.cancel(previous_id)
        offset = ed.type(offset, ch)
        keys.append(time.monotonic())
        previous_id = f"key-{n}"
        previous = ed.request(offset, msg_id=previous_id)
        if n < PAUSE_AT - 1:
            await asyncio.sleep(GAP)
    started = time.monotonic()
    assert previous is not None
    result = await asyncio.wait_for(previous, 10)
    items = list(getattr(result, "items", result) or [])
    return time.monotonic() - started, items


async def test_at_a_pause_the_answer_is_already_arriving(start_server, mock):
    mock.responder = respond
    client = await start_server({"endpoint": mock.url})
    ed = Editor(client, TEXT)
    keys: list[float] = []
    elapsed, items = await type_then_pause(ed, keys)
    assert [i.insert_text for i in items] == [TARGET[PAUSE_AT:]]
    first = mock.requests[0].started
    lag = first - max(k for k in keys if k <= first)
    # The stream began at `scale` (a word the file holds), right at its key (no debounce), four
    # keys before the pause; the keys after it agreed with it and joined it.
    assert mock.requests[0].body["prompt"].endswith(HEAD + "scale")
    assert lag < 0.04, lag
    assert len(mock.requests) == 1
    assert elapsed < TTFT - 0.1, elapsed
