"""Privacy end to end: the real server at -vv against a model server that echoes the key.

Neither what the editor receives (pop-ups, log messages, status) nor the server's log file may
hold any form of the key. Then: secret files are never sent, and secrets in ordinary files are
masked before they are.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import pytest_asyncio
from lsp_support import Editor, inline_capabilities, server_env, until
from lsprotocol import types
from mock_codestral import MockCodestral, Reply
from pytest_lsp import ClientServerConfig, LanguageClient

# Quotes and a backslash, so its JSON-escaped and URL-encoded forms differ from it.
KEY = "sk-e2e\"quo'te\\Q7wErTy0123456789abcdef"
SOURCE = "def add(a, b):\n    return \n"
CURSOR = SOURCE.index("return ") + len("return ")

Session = tuple[LanguageClient, Path, list[str]]
StartLogged = Callable[..., Awaitable[Session]]


def key_forms(key: str) -> dict[str, str]:
    """Every encoding of the key a leak could take (the test's own list, not the server's)."""
    b64 = base64.b64encode
    return {
        "raw": key,
        "json": json.dumps(key)[1:-1],
        "json twice": json.dumps(json.dumps(key))[1:-1],
        "python repr": repr(key)[1:-1],
        "url": quote(key, safe=""),
        "url plus": quote_plus(key),
        "url lower-case": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(key, safe="")),
        # The middle of a base64 text depends on the key alone, wherever the key sits in it.
        "base64": b64(key.encode()).decode()[4:-4],
        "base64 of Bearer": b64(f"Bearer {key}".encode()).decode()[12:-4],
        "hex": key.encode().hex(),
        "after the quote": key.split('"', 1)[1],
        "before the backslash": key.split("\\", 1)[0].split("'")[0][:10],
    }


def leaks(text: str, key: str = KEY) -> list[str]:
    """The names of the key's forms found in a text."""
    return [name for name, form in key_forms(key).items() if form in text]


@pytest_asyncio.fixture
async def start_logged(tmp_path: Path) -> AsyncIterator[StartLogged]:
    """Start `fim-lsp -vv --log-file` and record every status text it sends."""
    clients: list[LanguageClient] = []

    async def start(
        init_options: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> Session:
        log_path = tmp_path / f"server-{len(clients)}.log"
        config = ClientServerConfig(
            server_command=[sys.executable, "-m", "fim_lsp", "-vv", "--log-file", str(log_path)],
            server_env=server_env(**(env or {})),
        )
        client = await config.start()
        assert isinstance(client, LanguageClient)
        clients.append(client)
        statuses: list[str] = []
        client.feature("fimLsp/status")(lambda params: statuses.append(params.message))
        await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(), initialization_options=init_options
            )
        )
        return client, log_path, statuses

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()


def everything_said(client: LanguageClient, statuses: list[str]) -> list[str]:
    return [m.message for m in client.messages + client.log_messages] + statuses


@pytest.mark.parametrize("body_kind", ["json", "text"])
async def test_a_401_that_echoes_the_key_shows_no_form_of_it(
    start_logged: StartLogged, mock: MockCodestral, body_kind: str
):
    if body_kind == "json":
        # JSON-escaped in the body; the raw key once it is parsed.
        body = json.dumps({"message": f"Invalid API key: {KEY}", "request_id": KEY}).encode()
    else:
        body = f"bad key {KEY} (as JSON: {json.dumps(KEY)}) url={quote(KEY)}".encode()
    mock.responder = lambda _body: Reply(status=401, body=body)
    client, log_path, statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": KEY, "debounceMs": 0}
    )
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any("rejected the API key" in m.message for m in client.messages))
    await until(lambda: any(s for s in statuses))
    # The key did go to the model server, so every message could have carried it back.
    assert mock.requests[0].headers["authorization"] == f"Bearer {KEY}"
    shown = everything_said(client, statuses)
    assert [(m, leaks(m)) for m in shown if leaks(m)] == []
    log = log_path.read_text(encoding="utf-8")
    assert "rejected the API key" in log
    # pygls logged the settings and every message sent: -vv is on.
    assert "initialization_options=" in log and "Sending data" in log
    assert leaks(log) == []


async def test_a_404_from_an_environment_key_shows_no_form_of_it(
    start_logged: StartLogged, mock: MockCodestral
):
    body = (
        f"model not found for key {KEY}; token={quote_plus(KEY)}; "
        f"auth={base64.b64encode(f'Bearer {KEY}'.encode()).decode()}"
    ).encode()
    mock.responder = lambda _body: Reply(status=404, body=body)
    client, log_path, statuses = await start_logged(
        {"debounceMs": 0}, env={"CODESTRAL_API_KEY": KEY, "FIM_LSP_ENDPOINT": mock.url}
    )
    ed = Editor(client, SOURCE)
    assert await ed.complete(CURSOR) == []
    await until(lambda: any("refused the request" in m.message for m in client.messages))
    assert mock.requests[0].headers["authorization"] == f"Bearer {KEY}"
    shown = everything_said(client, statuses)
    assert [(m, leaks(m)) for m in shown if leaks(m)] == []
    log = log_path.read_text(encoding="utf-8")
    assert "refused the request" in log
    assert leaks(log) == []
