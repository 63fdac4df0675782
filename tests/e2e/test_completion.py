"""End to end: the real `fim-lsp` over stdio against the mock Codestral server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import pytest
from lsp_support import API_KEY, Editor, inline_capabilities, until
from lsprotocol import types
from mock_codestral import MockCodestral, Reply
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import client_capabilities

SOURCE = "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n"
CURSOR = len("def add(a, b):\n    return ")


async def test_suggestion_with_exact_prompt_suffix_and_range(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    items = await ed.complete(CURSOR)
    assert [i.insert_text for i in items] == ["a + b"]
    assert items[0].range == types.Range(types.Position(1, 11), types.Position(1, 11))
    assert items[0].command is not None and items[0].command.command == "fimLsp.accepted"
    body = mock.requests[0].body
    assert body["prompt"] == SOURCE[:CURSOR]
    assert body["suffix"] == SOURCE[CURSOR:]
    assert body["model"] == "codestral-latest"
    assert body["stream"] is True
    assert mock.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    # The accept command reaches the server without error.
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="fimLsp.accepted", arguments=[{"uri": ed.uri}])
    )


async def test_closing_bracket_after_cursor_is_covered_by_the_range(start_server, mock):
    mock.responder = lambda body: Reply(text="1, 2)")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    text = "x = add()\n"
    ed = Editor(client, text)
    items = await ed.complete(len("x = add("))
    assert [i.insert_text for i in items] == ["1, 2)"]
    # The range replaces the auto-closed ")" so accepting gives add(1, 2), not add(1, 2)).
    assert items[0].range == types.Range(types.Position(0, 8), types.Position(0, 9))


async def test_burst_of_keystrokes_makes_one_upstream_call(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 150})
    ed = Editor(client, "def add(a, b):\n    \n")
    offset = len("def add(a, b):\n    ")
    futures = []
    for ch in "return aa ":
        offset = ed.type(offset, ch)
        # Neovim-style: no cancellation, the server must drop the superseded requests itself.
        futures.append(ed.request(offset))
    results = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert [len(r.items) for r in results[:-1]] == [0] * 9
    assert [i.insert_text for i in results[-1].items] == ["a + b"]
    assert len(mock.requests) == 1
    assert mock.requests[0].body["prompt"].endswith("return aa ")


async def test_superseded_request_is_answered_at_once_and_its_stream_closed(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b + c + d", ttft=0.05, token_delay=0.2)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, "def add(a, b):\n    \n")
    offset = ed.type(len("def add(a, b):\n    "), "r")
    first = ed.request(offset)
    await until(lambda: bool(mock.requests) and mock.requests[0].chunks_sent >= 2)
    started = time.monotonic()
    # "e" disagrees with the "a + " already streamed: the stream is of no use any more.
    offset = ed.type(offset, "e")
    second = ed.request(offset)
    result = await asyncio.wait_for(first, 5)
    assert list(result.items) == []
    assert time.monotonic() - started < 0.15
    await until(lambda: mock.requests[0].disconnected, 2)
    await until(lambda: len(mock.requests) == 2, 2)
    assert mock.requests[1].body["prompt"].endswith("re")
    await asyncio.wait_for(second, 5)


async def test_a_stopped_stream_is_replaced_by_a_warm_connection(start_server, mock):
    # Over HTTP/1.1 stopping a stream closes its connection: a spare is opened at once, so the
    # next call (a debounce later) pays no new handshake.
    mock.responder = lambda body: Reply(text="x" * 200, ttft=0.05, token_delay=0.05)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    await until(lambda: mock.heads == 1)  # the warm-up at start
    msg_id = str(uuid.uuid4())
    first = ed.request(CURSOR, msg_id=msg_id)
    await until(lambda: bool(mock.requests) and mock.requests[0].chunks_sent >= 2)
    ed.cancel(msg_id)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(first, 5)
    await until(lambda: mock.requests[0].disconnected, 2)
    await until(lambda: mock.heads == 2, 2)
    connections = mock.connections
    mock.responder = lambda body: Reply(text="a + b")
    assert [i.insert_text for i in await ed.complete(CURSOR - 1)] == ["a + b"]
    assert mock.connections == connections


async def test_stream_in_flight_is_kept_when_typing_what_it_produces(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b", ttft=0.3)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, "def add(a, b):\n    return \n")
    offset = len("def add(a, b):\n    return ")
    msg_id = str(uuid.uuid4())
    first = ed.request(offset, msg_id=msg_id)
    await until(lambda: len(mock.requests) == 1)
    # As VS Code does: cancel, then the keystroke, then a new request.
    ed.cancel(msg_id)
    offset = ed.type(offset, "a")
    second = ed.request(offset)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(first, 5)
    items = (await asyncio.wait_for(second, 5)).items
    assert [i.insert_text for i in items] == [" + b"]
    assert len(mock.requests) == 1
    assert mock.requests[0].completed and not mock.requests[0].disconnected


async def test_cancel_request_closes_the_stream_mid_way(start_server, mock):
    mock.responder = lambda body: Reply(text="x" * 400, ttft=0.05, token_delay=0.05)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    msg_id = str(uuid.uuid4())
    future = ed.request(CURSOR, msg_id=msg_id)
    await until(lambda: bool(mock.requests) and mock.requests[0].chunks_sent >= 3, 5)
    ed.cancel(msg_id)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(future, 5)
    await until(lambda: mock.requests[0].disconnected, 2)
    sent = mock.requests[0].chunks_sent
    await asyncio.sleep(0.3)
    assert mock.requests[0].chunks_sent == sent
    assert not mock.requests[0].completed


async def test_repeat_request_is_served_from_the_cache(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    first = await ed.complete(CURSOR)
    second = await ed.complete(CURSOR)
    assert [i.insert_text for i in second] == [i.insert_text for i in first] == ["a + b"]
    assert len(mock.requests) == 1


async def test_typing_through_makes_no_call(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 50})
    ed = Editor(client, SOURCE)
    await ed.complete(CURSOR)
    offset = CURSOR
    expected = [" + b", "+ b", " b"]
    for ch, rest in zip("a +", expected, strict=True):
        offset = ed.type(offset, ch)
        items = await ed.complete(offset)
        assert [i.insert_text for i in items] == [rest]
        line, col = 1, len("    return ") + (offset - CURSOR)
        assert items[0].range.start == types.Position(line, col)
    # No key made a call of its own; the first one asked ahead, once, for what follows the
    # suggestion's end (as if it were accepted).
    assert len(mock.requests) == 2
    assert mock.requests[1].body["prompt"].endswith("return a + b")


async def test_answer_comes_at_finish_reason_and_the_connection_stays_pooled(start_server, mock):
    # A server slow to send [DONE]: the answer must not wait for it, and the rest of the body is
    # still read (in the background) so the next call reuses the connection.
    mock.responder = lambda body: Reply(text="a + b", done_delay=0.15)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    items = await ed.complete(CURSOR)
    answered_at = time.monotonic()
    assert [i.insert_text for i in items] == ["a + b"]
    first = mock.requests[0]
    assert first.answered is not None and answered_at < first.answered + 0.15
    await until(lambda: first.completed)
    connections = mock.connections
    assert [i.insert_text for i in await ed.complete(CURSOR - 1)] == ["a + b"]
    assert len(mock.requests) == 2 and mock.connections == connections
    assert not first.disconnected


async def test_status_notifications_reach_the_client_after_the_answer(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b", ttft=0.2)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    statuses: list[tuple[str, float]] = []
    client.feature("fimLsp/status")(
        lambda params: statuses.append((params.state, time.monotonic()))
    )
    ed = Editor(client, SOURCE)
    items = await ed.complete(CURSOR)
    answered_at = time.monotonic()
    assert [i.insert_text for i in items] == ["a + b"]
    await until(lambda: statuses and statuses[-1][0] == "idle")
    states = [s for s, _ in statuses]
    # "fetching" while the model thinks, "idle" once the answer is out (never in its way).
    assert "fetching" in states
    assert states.index("fetching") < len(states) - 1
    assert statuses[-1][1] >= answered_at
    # A rejected key turns the status to an error.
    mock.responder = lambda body: Reply(status=401)
    assert await ed.complete(CURSOR - 1) == []
    await until(lambda: statuses[-1][0] == "error")


@pytest.mark.parametrize("debounce_ms", [0, 75])
async def test_debounce_is_learnt_from_typing_and_zero_means_none(start_server, mock, debounce_ms):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": debounce_ms})
    ed = Editor(client, "def add(a, b):\n    \n")
    offset = len("def add(a, b):\n    ")
    for ch in "return ":
        offset = ed.type(offset, ch)
        await asyncio.sleep(0.04)
    items = await ed.complete(offset)
    assert [i.insert_text for i in items] == ["a + b"]
    assert items[0].command is not None and items[0].command.arguments is not None
    applied = items[0].command.arguments[0]["debounceMs"]
    if debounce_ms == 0:
        assert applied == 0
    else:
        # Learnt from ~40 ms key gaps: shorter than the 75 ms start, within the 30 ms floor.
        assert 30 <= applied < 75


async def test_debounce_is_longer_inside_a_new_word_than_after_a_known_one(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 75})
    ed = Editor(client, "def add(a, b):\n    total = a + b\n    \n")
    offset = len("def add(a, b):\n    total = a + b\n    ")

    async def type_then_complete(text: str) -> float:
        nonlocal offset
        for ch in text:
            offset = ed.type(offset, ch)
            await asyncio.sleep(0.06)
        items = await ed.complete(offset)
        assert items and items[0].command is not None and items[0].command.arguments
        return float(items[0].command.arguments[0]["debounceMs"])

    # "tot" is only part of a word the file holds; "total" is the word itself.
    inside = await type_then_complete("return tot")
    after_word = await type_then_complete("al")
    assert inside > 1.3 * after_word


async def test_invoked_trigger_skips_the_debounce(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 2000})
    ed = Editor(client, SOURCE)
    started = time.monotonic()
    items = await ed.complete(CURSOR, invoked=True)
    assert [i.insert_text for i in items] == ["a + b"]
    assert time.monotonic() - started < 1.5


async def test_401_tells_the_user_once_and_pauses(start_server, mock):
    mock.responder = lambda body: Reply(status=401)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    assert await ed.complete(CURSOR - 1) == []
    await until(lambda: any("rejected the API key" in m.message for m in client.messages))
    rejected = [m for m in client.messages if "rejected the API key" in m.message]
    assert len(rejected) == 1
    assert f"127.0.0.1:{mock.port}" in rejected[0].message
    assert rejected[0].type == types.MessageType.Error
    assert len(mock.requests) == 1
    # A new key lifts the pause.
    mock.responder = lambda body: Reply(text="a + b")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fimLsp": {"apiKey": "another-key"}})
    )
    assert [i.insert_text for i in await ed.complete(CURSOR)] == ["a + b"]
    assert mock.requests[-1].headers["authorization"] == "Bearer another-key"
    everything = [m.message for m in client.messages + client.log_messages]
    assert not any(API_KEY in m or "another-key" in m for m in everything)


async def test_429_backs_off_for_retry_after(start_server, mock):
    mock.responder = lambda body: Reply(status=429, headers={"Retry-After": "1"})
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any("rate limit" in m.message for m in client.log_messages))
    assert any("waiting 1 s" in m.message for m in client.log_messages)
    mock.responder = lambda body: Reply(text="a + b")
    assert await ed.complete(CURSOR - 1) == []
    assert len(mock.requests) == 1
    await asyncio.sleep(1.1)
    assert [i.insert_text for i in await ed.complete(CURSOR)] == ["a + b"]
    assert len(mock.requests) == 2


@pytest.mark.parametrize("retry_after", ["1000000000", "inf", "Fri, 31 Dec 9999 23:59:59 GMT"])
async def test_retry_after_is_capped_said_in_the_status_and_lifted_by_settings(
    start_server, mock, retry_after
):
    mock.responder = lambda body: Reply(status=429, headers={"Retry-After": retry_after})
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    statuses: list[tuple[str, str]] = []
    client.feature("fimLsp/status")(lambda params: statuses.append((params.state, params.message)))
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: statuses[-1:] == [("error", "rate limited: suggestions resume in 60 s")])
    mock.responder = lambda body: Reply(text="a + b")
    assert await ed.complete(CURSOR - 1) == []
    assert len(mock.requests) == 1
    # Any settings change lifts the pause.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fimLsp": {"maxTokens": 64}})
    )
    await asyncio.sleep(0.1)
    assert [i.insert_text for i in await ed.complete(CURSOR)] == ["a + b"]
    assert len(mock.requests) == 2


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(status=500), "failed (500"),
        (Reply(text="a + b", mode="break"), "broke off"),
        (Reply(text="a + b", mode="malformed"), "malformed event"),
    ],
    ids=["500", "broken-stream", "malformed"],
)
async def test_server_side_failures_give_no_suggestion_and_a_log_line(
    start_server, mock, reply, words
):
    mock.responder = lambda body: reply
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any(words in m.message for m in client.log_messages))
    # The next trigger tries again.
    mock.responder = lambda body: Reply(text="a + b")
    assert [i.insert_text for i in await ed.complete(CURSOR)] == ["a + b"]
    assert len(mock.requests) == 2


async def test_hang_past_the_timeout(start_server, mock):
    mock.responder = lambda body: Reply(mode="hang")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0, "timeoutMs": 400})
    ed = Editor(client, SOURCE)
    started = time.monotonic()
    assert await ed.complete(CURSOR) == []
    assert time.monotonic() - started < 3
    # The stream's read timeout says "stopped answering"; the flight's deadline, its backstop,
    # "did not finish within".
    await until(
        lambda: any(
            "stopped answering" in m.message or "did not finish within" in m.message
            for m in client.log_messages
        )
    )
    await until(lambda: mock.requests[0].disconnected, 2)


async def test_404_shows_the_apis_own_message(start_server, mock):
    mock.responder = lambda body: Reply(status=404)
    client = await start_server({"endpoint": mock.url, "debounceMs": 0, "model": "nope"})
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any("Model not found" in m.message for m in client.messages))


async def test_settings_changed_at_run_time_take_effect(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    await ed.complete(CURSOR)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"fimLsp": {"model": "codestral-2508", "maxTokens": 32}}
        )
    )
    await ed.complete(CURSOR)
    assert len(mock.requests) == 2
    assert mock.requests[1].body["model"] == "codestral-2508"
    assert mock.requests[1].body["max_tokens"] == 32
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fimLsp": {"enable": False}})
    )
    assert await ed.complete(CURSOR - 2) == []
    assert len(mock.requests) == 2


async def test_settings_pulled_with_workspace_configuration(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    other = MockCodestral(responder=lambda body: Reply(text="from pulled")).start()
    try:
        client = await start_server(
            {"endpoint": mock.url, "debounceMs": 0},
            configuration={"endpoint": other.url},
        )
        ed = Editor(client, SOURCE)
        await until(lambda: True)
        await asyncio.sleep(0.2)
        assert [i.insert_text for i in await ed.complete(CURSOR)] == ["from pulled"]
        assert len(other.requests) == 1 and not mock.requests
    finally:
        other.stop()


async def test_invalid_setting_is_named_once_and_keeps_its_default(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0, "maxTokens": "lots"})
    ed = Editor(client, SOURCE)
    await ed.complete(CURSOR)
    await until(lambda: any("fimLsp.maxTokens" in m.message for m in client.messages))
    assert mock.requests[0].body["max_tokens"] == 256
    assert sum("maxTokens" in m.message for m in client.messages) == 1


async def test_no_key_tells_the_user_what_to_set(start_server, mock):
    client = await start_server({"endpoint": mock.url, "debounceMs": 0}, env={})
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any("CODESTRAL_API_KEY" in m.message for m in client.messages))
    assert not mock.requests


async def test_completion_items_for_clients_without_inline_completion(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server(
        {"endpoint": mock.url, "debounceMs": 0}, capabilities=client_capabilities("neovim")
    )
    ed = Editor(client, SOURCE)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=ed.uri),
            position=ed.position(CURSOR),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(result, types.CompletionList)
    [item] = result.items
    assert item.label == "a + b"
    assert item.text_edit is not None and item.text_edit.new_text == "a + b"
    assert item.text_edit.range == types.Range(types.Position(1, 11), types.Position(1, 11))


async def test_completion_items_off_when_client_has_inline_completion(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=ed.uri), position=ed.position(CURSOR)
        )
    )
    assert isinstance(result, types.CompletionList) and list(result.items) == []
    assert not mock.requests


async def test_utf8_position_encoding_with_emoji(start_server, mock):
    mock.responder = lambda body: Reply(text=" + 1")
    caps = inline_capabilities()
    caps.general = types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
    )
    client = await start_server({"endpoint": mock.url, "debounceMs": 0}, capabilities=caps)
    assert (
        client.initialize_result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    )
    text = 's = "😀é" + x  # tail\n'
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri="file:///tmp/e.py", language_id="python", version=1, text=text
            )
        )
    )
    col = len('s = "😀é" + x'.encode())
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri="file:///tmp/e.py"),
            position=types.Position(0, col),
        )
    )
    assert mock.requests[0].body["prompt"] == 's = "😀é" + x'
    assert mock.requests[0].body["suffix"] == "  # tail\n"
    [item] = result.items
    assert item.range.start == types.Position(0, col)


async def test_shutdown_with_a_request_in_flight_exits_cleanly(start_server, mock):
    mock.responder = lambda body: Reply(mode="hang")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    pending = ed.request(CURSOR)
    await until(lambda: len(mock.requests) >= 1)
    started = time.monotonic()
    await asyncio.wait_for(client.shutdown_async(None), 5)
    client.exit(None)
    assert client._server is not None
    code = await asyncio.wait_for(client._server.wait(), 5)
    assert code == 0
    assert time.monotonic() - started < 3
    await until(lambda: mock.requests[0].disconnected, 2)
    pending.cancel()
    client.capabilities = None  # already shut down: the fixture must not do it again


async def test_stdout_carries_only_lsp_frames(mock):
    """Run a whole session by hand and check every byte on stdout is a framed message."""
    import json

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fim_lsp",
        "-vv",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"MISTRAL_API_KEY": API_KEY, "PATH": "/usr/bin:/bin"},
    )

    def frame(obj: dict) -> bytes:
        data = json.dumps(obj).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(data), data)

    init = {"capabilities": {}, "initializationOptions": {"endpoint": mock.url}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    assert proc.stdin is not None
    proc.stdin.write(b"".join(frame(m) for m in messages))
    await proc.stdin.drain()
    out, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    rest = out
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        assert sep and set(headers) <= {b"Content-Length", b"Content-Type"}, out[:200]
        length = int(headers[b"Content-Length"])
        json.loads(rest[:length])
        rest = rest[length:]
    assert API_KEY.encode() not in out + err
