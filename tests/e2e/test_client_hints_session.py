"""End to end: with no API key, the pop-up names the setting of the editor that asked (clientInfo).

The engine builds its no-key message with `client_hints.key_setting(client name)`.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from lsp_support import inline_capabilities, server_env, until
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

CLIENTS = [
    ("Visual Studio Code", '"fim-lsp: Set API key"', "setup("),
    ("Neovim", "settings = { apiKey = ... }", "VS Code"),
    ("emacs", "fim-lsp-api-key", "VS Code"),
    ("helix", "languages.toml", "VS Code"),
]


@pytest.mark.parametrize(("name", "says", "not_says"), CLIENTS, ids=[c[0] for c in CLIENTS])
async def test_no_key_message_names_the_editors_setting(name: str, says: str, not_says: str):
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "fim_lsp"], server_env=server_env()
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(),
                client_info=types.ClientInfo(name=name, version="1"),
            )
        )
        await until(lambda: any("no API key" in m.message for m in client.messages))
        [message] = [m.message for m in client.messages if "no API key" in m.message]
        assert says in message, message
        assert not_says not in message, message
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
