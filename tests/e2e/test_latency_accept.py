"""After an accept the next suggestion is already asked for: the editor's request that follows the
edit is answered from that call, without a debounce, over stdio against the mock model."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from lsp_support import Editor
from lsprotocol import types
from mock_codestral import Reply

HEAD = "def add(a, b):\n    return "
TEXT = HEAD + "\n"
FIRST = "a + b"
NEXT = "  # the sum"
TTFT = 0.1
# Long, so an answer that waited for it is unmistakable.
DEBOUNCE_MS = 1500


def respond(body: dict[str, Any]) -> Reply:
    prompt = body["prompt"]
    if prompt.endswith(HEAD + FIRST):
        return Reply(text=NEXT, ttft=TTFT, token_delay=0.005)
    if prompt.endswith(HEAD):
        return Reply(text=FIRST, ttft=TTFT, token_delay=0.005)
    return Reply(text="")


async def session(start_server: Any, mock: Any) -> tuple[Editor, types.InlineCompletionItem]:
    mock.responder = respond
    client = await start_server(
        {"endpoint": mock.url, "debounceMs": DEBOUNCE_MS, "adaptiveDebounce": False}
    )
    ed = Editor(client, TEXT)
    items = await ed.complete(len(HEAD), invoked=True)
    assert [i.insert_text for i in items] == [FIRST]
    return ed, items[0]


async def accept(ed: Editor, item: types.InlineCompletionItem, *, command: bool = True) -> int:
    """What VS Code does on Tab: the edit, then the item's command."""
    offset = ed.type(len(HEAD), FIRST)
    if command:
        assert item.command is not None
        await ed.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )
    return offset


async def timed(ed: Editor, offset: int) -> tuple[float, list[types.InlineCompletionItem]]:
    started = time.monotonic()
    items = await ed.complete(offset)
    return time.monotonic() - started, items


async def test_the_request_after_an_accept_is_answered_without_a_debounce(start_server, mock):
    ed, item = await session(start_server, mock)
    offset = await accept(ed, item)
    elapsed, items = await timed(ed, offset)
    assert [i.insert_text for i in items] == [NEXT]
    # The call started at the accept: no 1.5 s debounce before it.
    assert elapsed < DEBOUNCE_MS / 1000 / 2, elapsed
    assert len(mock.requests) == 2


async def test_when_the_model_had_it_the_answer_is_immediate(start_server, mock):
    ed, item = await session(start_server, mock)
    offset = await accept(ed, item)
    await asyncio.sleep(TTFT + 0.4)
    elapsed, items = await timed(ed, offset)
    assert [i.insert_text for i in items] == [NEXT]
    assert elapsed < TTFT, elapsed
    assert len(mock.requests) == 2


async def test_an_edit_that_inserts_the_suggestion_is_an_accept(start_server, mock):
    # Clients without the command (Neovim's native inline completion) only send the edit.
    ed, item = await session(start_server, mock)
    offset = await accept(ed, item, command=False)
    elapsed, items = await timed(ed, offset)
    assert [i.insert_text for i in items] == [NEXT]
    assert elapsed < DEBOUNCE_MS / 1000 / 2, elapsed


async def test_other_typing_still_waits_for_the_debounce(start_server, mock):
    ed, _item = await session(start_server, mock)
    offset = ed.type(len(HEAD), "b * ")  # not the suggestion
    elapsed, _items = await timed(ed, offset)
    assert elapsed >= DEBOUNCE_MS / 1000 * 0.9, elapsed


async def test_a_partial_accept_of_the_whole_suggestion_asks_for_the_next(start_server, mock):
    # Copilot's notification, before the edit arrives: the whole text taken word by word.
    ed, item = await session(start_server, mock)
    ed.client.protocol.notify(
        "textDocument/didPartiallyAcceptCompletion",
        {"item": item_json(item), "acceptedLength": len(FIRST)},
    )
    await asyncio.sleep(TTFT + 0.4)
    assert len(mock.requests) == 2 and mock.requests[1].body["prompt"].endswith(HEAD + FIRST)
    offset = ed.type(len(HEAD), FIRST)
    elapsed, items = await timed(ed, offset)
    assert [i.insert_text for i in items] == [NEXT]
    assert elapsed < TTFT, elapsed


async def test_a_partial_accept_of_one_word_asks_for_nothing(start_server, mock):
    ed, item = await session(start_server, mock)
    ed.client.protocol.notify(
        "textDocument/didPartiallyAcceptCompletion",
        {"item": item_json(item), "acceptedLength": 2},
    )
    await asyncio.sleep(TTFT + 0.4)
    assert len(mock.requests) == 1


def item_json(item: types.InlineCompletionItem) -> dict[str, Any]:
    assert item.command is not None
    return {
        "insertText": item.insert_text,
        "command": {
            "title": item.command.title,
            "command": item.command.command,
            "arguments": item.command.arguments,
        },
    }
