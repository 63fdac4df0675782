"""Malformed messages over raw stdio: every request answered once, no pop-up, a quiet log."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Iterator
from typing import Any

from lsp_support import API_KEY, server_env
from mock_codestral import MockCodestral, Reply
from raw_lsp import RawServer

URI = "file:///tmp/fuzz.py"
SOURCE = "def add(a, b):\n    return \n"

GOOD_INLINE = {
    "textDocument": {"uri": URI},
    "position": {"line": 1, "character": 11},
    "context": {"triggerKind": 1},
}
GOOD_COMPLETION = {
    "textDocument": {"uri": URI},
    "position": {"line": 1, "character": 11},
    "context": {"triggerKind": 1},
}
GOOD_COMMAND = {"command": "fimLsp.accepted", "arguments": [{"id": 1}]}

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    -(2**31),
    2**31,
    2**53,
    10**30,
    1.5,
    -0.0,
    "",
    "3",
    "abc",
    "\u0000",
    "x" * 5000,
    [],
    [1, 2],
    {},
    {"jsonrpc": "2.0", "method": "exit"},
    {"line": 0},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path in a JSON value."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*prefix, key)
            yield from paths(sub, (*prefix, key))


def with_value(params: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    """A copy of `params` with the value at `path` replaced (or deleted)."""
    out = copy.deepcopy(params)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    return out


def malformed(rng: random.Random) -> Iterator[tuple[str, Any]]:
    """(method, params) pairs: systematic shapes first, then random mutations."""
    goods = [
        ("textDocument/inlineCompletion", GOOD_INLINE),
        ("textDocument/completion", GOOD_COMPLETION),
        ("workspace/executeCommand", GOOD_COMMAND),
    ]
    for method, good in goods:
        for value in ODD_VALUES:
            yield method, value  # params that are not an object
        for path in paths(good):
            yield method, with_value(good, path, None, delete=True)
            for value in ODD_VALUES:
                yield method, with_value(good, path, value)
    for trigger in (0, 3, 4, 99, -1, "1", 1.5):
        yield (
            "textDocument/inlineCompletion",
            with_value(GOOD_INLINE, ("context", "triggerKind"), trigger),
        )
    for uri in ("file:///never-opened.py", "", "::::", "untitled:Untitled-1", "x" * 3000):
        yield "textDocument/inlineCompletion", with_value(GOOD_INLINE, ("textDocument", "uri"), uri)
    for command in ("", "no.such.command", 5, None):
        yield "workspace/executeCommand", {"command": command, "arguments": []}
    yield "workspace/executeCommand", {"command": "fimLsp.accepted", "arguments": 5}
    for method in ("foo/bar", "$/foo", "textDocument/hover", "", "textDocument/didChange", "exit "):
        yield method, {}
        yield method, 5
    while True:
        method, good = rng.choice(goods)
        params = copy.deepcopy(good)
        for _ in range(rng.randint(1, 4)):
            where = list(paths(params))
            if not where:
                break
            path = rng.choice(where)
            if rng.random() < 0.2:
                params = with_value(params, path, None, delete=True)
            else:
                params = with_value(params, path, rng.choice(ODD_VALUES))
        yield method, params


def bad_notifications() -> list[dict[str, Any]]:
    """Notifications with bad params: ignored, with no answer and no pop-up."""
    return [
        {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": 5},
        {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {}}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": URI, "version": 9},
                "contentChanges": [{"range": {"start": {"line": -1, "character": 0}}, "text": 1}],
            },
        },
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": None}},
        {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": []},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": [1]}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 999999}},
        {"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "loud"}},
        {"jsonrpc": "2.0", "method": "no/such/notification", "params": {}},
        {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": 5},
        {"jsonrpc": "2.0", "method": 5, "params": {}},
        {"jsonrpc": "2.0", "id": None, "method": "textDocument/completion", "params": {}},
        {"jsonrpc": "2.0", "id": [1], "method": "textDocument/completion", "params": {}},
        {"jsonrpc": "2.0", "id": 777777, "result": {"unasked": True}},
        {"jsonrpc": "2.0"},
        {"method": "textDocument/didChange"},
    ]


def test_every_malformed_request_gets_exactly_one_answer(mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="a + b")
    rng = random.Random(13)
    with RawServer("-v", env=server_env(MISTRAL_API_KEY=API_KEY)) as server:
        server.initialize({"endpoint": mock.url, "debounceMs": 0})
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": SOURCE}},
        )
        ids: list[Any] = []
        notes = bad_notifications()
        for n, (method, params) in zip(range(1000), malformed(rng), strict=False):
            msg_id: Any = 100_000 + n if n % 2 else f"fuzz-{n}"
            # A request without a params member at all, now and then.
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
            if n % 17 != 5:
                message["params"] = params
            server.send(message)
            ids.append(msg_id)
            if n % 60 == 0:
                server.send(notes[(n // 60) % len(notes)])
        # Requests with a broken envelope but a usable id are answered too (Invalid Request).
        for n, envelope in enumerate(({"jsonrpc": "1.0"}, {}, {"jsonrpc": None})):
            msg_id = f"envelope-{n}"
            server.send({**envelope, "id": msg_id, "method": "textDocument/completion"})
            ids.append(msg_id)
        for note in notes:
            server.send(note)

        good = server.call("textDocument/inlineCompletion", GOOD_INLINE, timeout=30)
        assert [i["insertText"] for i in good["result"]["items"]] == ["a + b"]
        for msg_id in ids:
            server.response(msg_id, timeout=30)
        time.sleep(0.5)  # a late duplicate answer would arrive by now

        answers = {msg_id: server.responses.get(msg_id, []) for msg_id in ids}
        twice = {k: v for k, v in answers.items() if len(v) != 1}
        assert not twice, f"{len(twice)} requests answered more than once: {list(twice)[:5]}"
        unknown = set(server.responses) - set(ids) - {1, good["id"]}
        assert not unknown, f"answers to no request: {unknown}"
        errors = [a[0]["error"]["code"] for a in answers.values() if "error" in a[0]]
        assert set(errors) <= {-32600, -32601, -32602}, set(errors)
        assert errors.count(-32602) > 300  # most are invalid params...
        assert -32601 in errors and -32600 in errors  # ...some unknown methods, bad envelopes
        assert server.stdout_error is None
        shown = [m for m in server.notifications if m["method"] == "window/showMessage"]
        assert shown == [], shown[:3]

        assert "result" in server.call("shutdown")
        server.notify("exit")
        assert server.wait(10) == 0
    log = server.stderr_text()
    assert "Traceback" not in log
    # One line per kind of problem now and then, not one (or a traceback) per message.
    problems = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert 5 < len(problems) < 60, "\n".join(problems)
