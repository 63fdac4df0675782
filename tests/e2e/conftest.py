"""End-to-end fixtures: the real `fim-lsp` process over stdio, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from lsp_support import API_KEY, StartServer, inline_capabilities, server_env
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_asyncio.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start `fim-lsp` and initialize a session; every started server is shut down afterwards."""
    clients: list[LanguageClient] = []

    async def start(
        init_options: dict[str, Any] | None = None,
        *,
        capabilities: types.ClientCapabilities | None = None,
        env: dict[str, str] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> LanguageClient:
        config = ClientServerConfig(
            server_command=[sys.executable, "-m", "fim_lsp", "-v"],
            server_env=server_env(**(env if env is not None else {"MISTRAL_API_KEY": API_KEY})),
        )
        client = await config.start()
        assert isinstance(client, LanguageClient)
        clients.append(client)
        if configuration is not None:
            client.set_configuration(configuration, section="fimLsp")
        client.initialize_result = await client.initialize_session(  # type: ignore[attr-defined]
            types.InitializeParams(
                capabilities=capabilities or inline_capabilities(),
                initialization_options=init_options,
            )
        )
        return client

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()
