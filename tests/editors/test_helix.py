"""The Helix snippet (editors/helix/languages.toml) and fim-lsp as Helix sees it.

Checks that the snippet parses and keeps each language's built-in servers, then drives the real
server over stdio with pytest-lsp, announcing Helix's capabilities (no inline completion, so the
suggestion must come as a completion item) and sending the snippet's `config` as Helix does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helix_client
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from fim_lsp.settings import WIRE_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
SNIPPET = REPO / "editors" / "helix" / "languages.toml"
sys.path.insert(0, str(REPO / "scripts"))

from mock_codestral import MockCodestral, Reply  # noqa: E402

# Helix's own `language-servers` for these languages (helix-editor/helix languages.toml, master
# of 2026). A user's list replaces these, so the snippet must repeat them.
HELIX_DEFAULT_SERVERS = {
    "python": ["ty", "ruff", "jedi", "pylsp", "zuban"],
    "javascript": ["typescript-language-server"],
    "jsx": ["typescript-language-server"],
    "typescript": ["typescript-language-server"],
    "tsx": ["typescript-language-server"],
    "rust": ["rust-analyzer"],
    "go": ["gopls", "golangci-lint-lsp"],
    "c": ["clangd"],
    "cpp": ["clangd"],
    "java": ["jdtls"],
    "lua": ["lua-language-server"],
    "bash": ["bash-language-server"],
    "ruby": ["ruby-lsp", "solargraph"],
    "php": ["intelephense"],
}

# Settings the server knows.
KNOWN_SETTINGS = set(WIRE_NAMES)


def _snippet() -> dict[str, Any]:
    with SNIPPET.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


def _server_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY", "FIM_LSP_ENDPOINT")
    }
    env["MISTRAL_API_KEY"] = "test"
    return env


# -- the snippet ------------------------------------------------------------------------------


def test_snippet_declares_the_server() -> None:
    server = _snippet()["language-server"]["fim-lsp"]
    assert server["command"] == "fim-lsp"
    settings = server["config"]["fimLsp"]
    assert set(settings) <= KNOWN_SETTINGS, set(settings) - KNOWN_SETTINGS


def test_snippet_keeps_default_servers() -> None:
    languages = {entry["name"]: entry for entry in _snippet()["language"]}
    assert set(HELIX_DEFAULT_SERVERS) <= set(languages), set(HELIX_DEFAULT_SERVERS) - set(languages)
    for name, entry in languages.items():
        assert name in HELIX_DEFAULT_SERVERS, f"no known defaults for {name}"
        assert entry["language-servers"] == [*HELIX_DEFAULT_SERVERS[name], "fim-lsp"], name
        # Only the server list is overridden: everything else stays Helix's.
        assert set(entry) == {"name", "language-servers"}, name


# -- the server as Helix drives it ------------------------------------------------------------


@dataclass
class Case:
    """A document, a cursor (0-based line, index in the line's characters) and the model's answer."""

    name: str
    text: str
    line: int
    index: int
    middle: str
    expected_line: str


CASES = [
    Case(
        name="after-space",
        text="def add(a, b):\n    return \n",
        line=1,
        index=11,
        middle="a + b",
        expected_line="    return a + b",
    ),
    Case(
        name="inside-word",
        text="def add(a, b):\n    ret\n",
        line=1,
        index=7,
        middle="urn a + b",
        expected_line="    return a + b",
    ),
    Case(
        name="closing-paren-after-cursor",
        text="def add(a, b):\n    return a + b\n\n\nresult = add()\n",
        line=4,
        index=13,
        middle="1, 2)",
        expected_line="result = add(1, 2)",
    ),
    Case(
        name="non-ascii-before-cursor",
        text='def greet(name):\n    return "héllo 😀 " + \n',
        line=1,
        index=24,
        middle="name",
        expected_line='    return "héllo 😀 " + name',
    ),
]


@pytest.fixture
def mock() -> Iterator[MockCodestral]:
    server = MockCodestral(text="").start()
    yield server
    server.stop()


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "fim_lsp"], server_env=_server_env()
    )
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    # Each test initializes the session with its own settings.
    yield
    await lsp_client.shutdown_session()


async def _initialize(
    client: LanguageClient, mock: MockCodestral, config: dict[str, Any], *, snippets: bool = True
) -> str:
    """Initialize as Helix does; return the position encoding the server chose."""
    # Helix answers workspace/configuration from the same `config` (section by section).
    client.set_configuration(config)
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=helix_client.capabilities(snippets=snippets),
            initialization_options=config,
            client_info=types.ClientInfo(name="helix", version="25.07.1"),
            root_uri=REPO.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=REPO.as_uri(), name=REPO.name)],
        )
    )
    caps = result.capabilities
    assert caps.completion_provider is not None, (
        "no completionProvider for a client without inline completion"
    )
    encoding = caps.position_encoding or types.PositionEncodingKind.Utf16
    assert encoding in ("utf-8", "utf-32", "utf-16")
    return str(encoding)


def _helix_config(mock: MockCodestral) -> dict[str, Any]:
    """The snippet's `config`, pointed at the mock model server."""
    config: dict[str, Any] = _snippet()["language-server"]["fim-lsp"]["config"]
    config["fimLsp"]["endpoint"] = mock.url
    return config


async def _complete(client: LanguageClient, case: Case, encoding: str) -> types.CompletionItem:
    uri = "file:///helix/example.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=0, text=case.text
            )
        )
    )
    line = case.text.split("\n")[case.line]
    position = types.Position(
        line=case.line, character=helix_client.encode_column(line, case.index, encoding)
    )
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            # Helix sends no context (contextSupport is off).
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else (result or [])
    assert len(items) == 1, result
    return items[0]


def _check_item(case: Case, item: types.CompletionItem, encoding: str) -> None:
    assert item.insert_text_format in (None, types.InsertTextFormat.PlainText), item
    line = case.text.split("\n")[case.line]
    # Helix hides items whose filterText (or label) does not fuzzy-match the typed word.
    word = helix_client.word_before(line, case.index)
    assert helix_client.fuzzy_matches(word, item.filter_text or item.label), (word, item)
    edit = helix_client.edit_of(item)
    assert edit.range.start.line == edit.range.end.line == case.line, edit
    after = helix_client.apply_edit(case.text, edit, encoding)
    lines = case.text.split("\n")
    lines[case.line] = case.expected_line
    assert after == "\n".join(lines)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_completion_item_inserts_suggestion(
    client: LanguageClient, mock: MockCodestral, case: Case
) -> None:
    mock.responder = lambda _body: Reply(text=case.middle)
    encoding = await _initialize(client, mock, _helix_config(mock))
    # Helix offers utf-8 first; a server that can use it should.
    assert encoding == types.PositionEncodingKind.Utf8
    item = await _complete(client, case, encoding)
    _check_item(case, item, encoding)
    assert mock.requests, "the server never called the model"
    assert mock.requests[-1].body["model"] == "codestral-latest"
    assert mock.requests[-1].body["max_tokens"] == 256


async def test_without_snippet_support(client: LanguageClient, mock: MockCodestral) -> None:
    case = CASES[0]
    mock.responder = lambda _body: Reply(text=case.middle)
    encoding = await _initialize(client, mock, _helix_config(mock), snippets=False)
    item = await _complete(client, case, encoding)
    _check_item(case, item, encoding)


async def test_flat_config_also_works(client: LanguageClient, mock: MockCodestral) -> None:
    """Settings straight under `config` arrive as flat initializationOptions; Helix then answers
    the server's pull of section `fimLsp` with null, which must not undo them."""
    case = CASES[0]
    mock.responder = lambda _body: Reply(text=case.middle)
    config = {"endpoint": mock.url, "maxTokens": 99}
    encoding = await _initialize(client, mock, config)
    item = await _complete(client, case, encoding)
    _check_item(case, item, encoding)
    assert mock.requests[-1].body["max_tokens"] == 99
