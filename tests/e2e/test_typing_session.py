"""A typing session as an editor makes it: keystroke by keystroke, the previous request cancelled each
time (as VS Code does), against a model that knows the true text. Every request must be answered,
every prompt/suffix must be an exact slice of the document, every suggestion must be the model's
text placed at the right column."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from lsp_support import Editor
from lsprotocol import types
from mock_codestral import Reply
from pygls.exceptions import JsonRpcRequestCancelled

TRUTH = (
    "import math\n"
    "\n"
    "\n"
    "def area(radius: float) -> float:\n"
    '    """Area of a circle 😀 of this radius."""\n'
    "    return math.pi * radius ** 2\n"
    "\n"
    "\n"
    'label = "面积 🎉 " + str(area(2.0))\n'
    "print(label)\n"
)
REGIONS = [
    ("    return math.pi * radius ** 2", "whole-line"),
    ('label = "面积 🎉 " + str(area(2.0))', "emoji-line"),
    ("math.pi * radius", "mid-line"),
    ('🎉 " + str', "mid-line-emoji"),
]


def oracle(truth: str, start: int, end: int) -> Any:
    """Answers the true rest of the line, whatever the cursor within the region."""

    def respond(body: dict[str, Any]) -> Reply:
        prompt = body["prompt"]
        for cursor in range(end, start - 1, -1):
            if truth[:cursor].endswith(prompt):
                rest = truth[cursor:end]
                return Reply(text=rest, ttft=0.03, token_delay=0.002)
        return Reply(text="")

    return respond


@pytest.mark.parametrize(("line", "name"), REGIONS, ids=[name for _, name in REGIONS])
async def test_keystroke_session_is_answered_exactly(start_server, mock, line: str, name: str):
    start = TRUTH.index(line)
    assert TRUTH.count(line) == 1
    end = start + len(line)
    mock.responder = oracle(TRUTH, start, end)
    client = await start_server({"endpoint": mock.url, "debounceMs": 20})
    ed = Editor(client, TRUTH[:start] + TRUTH[end:])
    offset = start
    pending: tuple[str, asyncio.Future[Any], int] | None = None
    answers: list[tuple[int, Any]] = []

    async def settle(entry: tuple[str, asyncio.Future[Any], int]) -> None:
        _msg_id, future, at = entry
        try:
            answers.append((at, await asyncio.wait_for(future, 10)))
        except JsonRpcRequestCancelled:
            answers.append((at, "cancelled"))

    for i, ch in enumerate(line):
        if pending is not None:
            ed.cancel(pending[0])
            await settle(pending)
        offset = ed.type(offset, ch)
        msg_id = str(uuid.uuid4())
        pending = (msg_id, ed.request(offset, msg_id=msg_id), offset)
        # A human rhythm with pauses: some keystrokes wait long enough for a suggestion.
        await asyncio.sleep(0.25 if i % 7 == 6 else 0.01)
    assert pending is not None
    await settle(pending)

    assert len(answers) == len(line)
    assert ed.text == TRUTH
    shown = 0
    for at, result in answers:
        if result == "cancelled":
            continue
        for item in result.items:
            shown += 1
            # The suggestion is the model's text, from the cursor, in UTF-16 columns.
            assert item.insert_text == TRUTH[at:end]
            expected_line = TRUTH[:at].count("\n")
            col = len(TRUTH[TRUTH.rfind("\n", 0, at) + 1 : at].encode("utf-16-le")) // 2
            assert item.range.start == types.Position(expected_line, col)
            assert item.range.end == item.range.start
    assert shown >= len(line) // 10
    # Every prompt and suffix the model saw was an exact slice around some cursor of the session.
    for request in mock.requests:
        prompt, suffix = request.body["prompt"], request.body["suffix"]
        assert any(TRUTH[:c].endswith(prompt) for c in range(start, end + 1)), prompt[-40:]
        assert TRUTH[end:].startswith(suffix)
    assert len(mock.requests) < len(line) / 2
