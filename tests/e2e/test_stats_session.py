"""End to end: a replayed session shows, accepts and dismisses suggestions; `fim-lsp stats` counts them.

The real server runs with XDG_STATE_HOME in a temporary folder, gets Copilot's
`textDocument/didShowCompletion` and `textDocument/didPartiallyAcceptCompletion` notifications and
the items' accept command as VS Code and the Neovim plugin send them, and writes its counts when
it shuts down; then `fim-lsp stats` reads them back.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from lsp_support import API_KEY, Editor, inline_capabilities, server_env, until
from lsprotocol import types
from mock_codestral import Reply
from pytest_lsp import ClientServerConfig, LanguageClient

SOURCE = "def add(a, b):\n    return \n\n\ndef mul(a, b):\n    return \n"
FIRST = len("def add(a, b):\n    return ")
SECOND = len(SOURCE) - 1


async def start(state: Path) -> LanguageClient:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "fim_lsp", "-v"],
        server_env=server_env(MISTRAL_API_KEY=API_KEY, XDG_STATE_HOME=str(state)),
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    return client


def unstructure(item: types.InlineCompletionItem) -> dict[str, Any]:
    """The item as it went over the wire (camelCase), as a client sends it back."""
    assert item.range is not None and isinstance(item.insert_text, str)
    start, end = item.range.start, item.range.end
    return {
        "insertText": item.insert_text,
        "range": {
            "start": {"line": start.line, "character": start.character},
            "end": {"line": end.line, "character": end.character},
        },
    }


def stats(state: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "fim_lsp", "stats"],
        env=server_env(XDG_STATE_HOME=str(state)),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert proc.stderr == ""
    return proc.stdout


def row(report: str, name: str) -> list[str]:
    """The cells (today, 7 days, all time) of a row of the report."""
    line = next(line for line in report.splitlines() if line.startswith(name + " "))
    return line[len(name) :].split()


async def test_replayed_session_is_counted_by_fim_lsp_stats(mock, tmp_path: Path):
    state = tmp_path / "state"
    mock.responder = lambda body: Reply(
        text="a * b" if "mul" in body["prompt"][-30:] else "a + b  # sum"
    )
    client = await start(state)
    statuses: list[Any] = []
    client.feature("fimLsp/status")(lambda params: statuses.append(params))
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(),
                initialization_options={"endpoint": mock.url, "debounceMs": 0},
            )
        )
        ed = Editor(client, SOURCE)

        # 1. Shown, accepted whole (the item's command, as VS Code runs it on Tab).
        [item] = await ed.complete(FIRST)
        assert item.insert_text == "a + b  # sum"
        client.protocol.notify("textDocument/didShowCompletion", {"item": unstructure(item)})
        assert item.command is not None
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )
        # The status carries the last suggestion's latency and where it came from.
        await until(lambda: any(getattr(s, "source", None) == "model" for s in statuses))
        last = next(s for s in reversed(statuses) if getattr(s, "source", None))
        assert last.latencyMs >= 0

        # 2. The same place again, from the cache: shown, one word accepted (UTF-16 length 2).
        [again] = await ed.complete(FIRST)
        client.protocol.notify("textDocument/didShowCompletion", {"item": unstructure(again)})
        client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion",
            {"item": unstructure(again), "acceptedLength": 2},
        )
        await until(lambda: getattr(statuses[-1], "source", None) == "cache")

        # 3. Another place: shown, then dismissed (the user typed on).
        [other] = await ed.complete(SECOND)
        assert other.insert_text == "a * b"
        client.protocol.notify("textDocument/didShowCompletion", {"item": unstructure(other)})
    finally:
        # Shutdown is answered after the notifications before it were handled.
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
    errors = [
        m.message
        for m in [*client.messages, *client.log_messages]
        if m.type == types.MessageType.Error
    ]
    assert errors == []

    report = stats(state)
    assert row(report, "suggestions shown") == ["3", "3", "3"], report
    assert row(report, "accepted") == ["1"] * 3, report
    assert row(report, "partially accepted") == ["1"] * 3, report
    assert row(report, "dismissed") == ["1"] * 3, report
    assert row(report, "acceptance rate") == ["67%", "(2/3)"] * 3, report
    assert row(report, "characters accepted") == [str(len("a + b  # sum") + 2)] * 3, report
    # Two for the suggestions asked for, one for the continuation the accept asks ahead of time.
    assert row(report, "model calls") == ["3"] * 3, report
    assert row(report, "from model/cache/typed") == ["2/1/0"] * 3, report
    p50 = row(report, "latency p50")
    assert p50[0] != "-" and p50[1] == "ms", report
    assert str(state / "fim-lsp" / "stats.jsonl") in report
