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
        init_options: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        root: Path | None = None,
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
        pulled_at: list[int] = []  # how many statuses had come when the settings were pulled

        answer_pull = client.get_configuration

        def get_configuration(**kwargs: Any) -> Any:
            pulled_at.append(len(statuses))
            return answer_pull(**kwargs)

        client.get_configuration = get_configuration  # type: ignore[method-assign]

        await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(),
                initialization_options=init_options,
                root_uri=root.as_uri() if root else None,
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]
                if root
                else None,
            )
        )
        # Settled: the status sent once `initialized` pulled the settings (a later one would
        # overwrite what the first request reports; the one after `initialize` may be merged
        # into it when the two come within the server's status delay).
        await until(lambda: bool(pulled_at) and len(statuses) > pulled_at[0])
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


# -- what is sent: secret files never, secrets in ordinary files masked ----------------------
# These need the engine wiring described in notes/privacy-readme.md (Excluder.check before a
# request, mask_split in context_at, contains_placeholder in finish); until it lands they fail,
# and strict xfail reports the day they pass.

GHP = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
AWS_ID = "AKIAZ7Q3LQ4XWJ2RB6PN"
PASSWORD = "Tr0ub4dor&3x"
OWN_KEY = "Mz4rT8yU2iO6pA1sD5fG9hJ3kL7qW0eR"  # Mistral-shaped: no prefix to spot it by
SECRETS_SOURCE = (
    "import os\n"
    f'GITHUB_TOKEN = "{GHP}"\n'
    f'AWS_KEY_ID = "{AWS_ID}"\n'
    f'DB = {{"user": "app", "password": "{PASSWORD}"}}\n'
    f"MISTRAL = '{OWN_KEY}'\n"
    "def add(a, b):\n    return \n"
)
SECRETS_CURSOR = SECRETS_SOURCE.index("return ") + len("return ")


def _open(client: LanguageClient, root: Path, rel: str, text: str = SOURCE) -> Editor:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return Editor(client, text, uri=path.as_uri())


async def test_secret_files_are_never_sent_and_the_status_says_why(
    start_logged: StartLogged, mock: MockCodestral, tmp_path: Path
):
    mock.responder = lambda _body: Reply(text="a + b")
    client, log_path, statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": OWN_KEY, "debounceMs": 0}, root=tmp_path
    )
    for rel, reason in (
        (".env", ".env files may hold secrets"),
        (".aws/credentials", "credentials files hold secrets"),
        ("deploy/id_rsa", "SSH keys (id_rsa) are secret"),
        ("config/secrets.yaml", "secrets files hold secrets"),
        ("tls/a.pem", "certificate and key files (*.pem) may hold private keys"),
    ):
        ed = _open(client, tmp_path, rel, f"TOKEN={GHP}\n" + SOURCE)
        assert await ed.complete(len(f"TOKEN={GHP}\n") + CURSOR, invoked=True) == []
        await until(lambda reason=reason: statuses[-1:] == [f"off for this file: {reason}"])
    assert mock.requests == []
    ed = _open(client, tmp_path, "src/main.py")
    assert [i.insert_text for i in await ed.complete(CURSOR)] == ["a + b"]
    await until(lambda: not statuses[-1].startswith("off for this file"))
    assert len(mock.requests) == 1
    assert GHP not in log_path.read_text(encoding="utf-8")


async def test_exclude_globs_and_fimignore_turn_files_off(
    start_logged: StartLogged, mock: MockCodestral, tmp_path: Path
):
    mock.responder = lambda _body: Reply(text="a + b")
    (tmp_path / ".fimignore").write_text("# generated code\ngenerated/*\n!generated/keep.py\n")
    client, _log, statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": OWN_KEY, "debounceMs": 0, "exclude": ["*.sql"]},
        root=tmp_path,
    )
    for rel, reason in (
        ("generated/api.py", ".fimignore excludes it (generated/*)"),
        ("db/seed.sql", "it matches the exclude setting (*.sql)"),
    ):
        assert await _open(client, tmp_path, rel).complete(CURSOR) == []
        await until(lambda reason=reason: statuses[-1:] == [f"off for this file: {reason}"])
    assert mock.requests == []
    # Negation works within .fimignore.
    assert [
        i.insert_text for i in await _open(client, tmp_path, "generated/keep.py").complete(CURSOR)
    ]
    assert len(mock.requests) == 1
    # Same text elsewhere: answered (from the cache), so not excluded.
    assert [i.insert_text for i in await _open(client, tmp_path, "src/app.py").complete(CURSOR)]


async def test_secrets_in_an_ordinary_file_are_masked_before_sending(
    start_logged: StartLogged, mock: MockCodestral
):
    mock.responder = lambda _body: Reply(text="a + b")
    client, _log, _statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": OWN_KEY, "debounceMs": 0}
    )
    ed = Editor(client, SECRETS_SOURCE, uri="file:///tmp/privacy_demo.py")
    assert [i.insert_text for i in await ed.complete(SECRETS_CURSOR)] == ["a + b"]
    sent = mock.requests[0].body["prompt"] + mock.requests[0].body["suffix"]
    for secret in (GHP, AWS_ID, PASSWORD, OWN_KEY):
        assert secret not in sent
    assert sent.count("REDACTED_SECRET") == 4
    assert 'DB = {"user": "app", "password": "REDACTED_SECRET"}' in sent


# Holds before the wiring too; after it, it checks that the setting turns masking off.
async def test_redact_secrets_false_sends_the_file_as_it_is(
    start_logged: StartLogged, mock: MockCodestral
):
    mock.responder = lambda _body: Reply(text="a + b")
    client, _log, _statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": OWN_KEY, "debounceMs": 0, "redactSecrets": False}
    )
    ed = Editor(client, SECRETS_SOURCE, uri="file:///tmp/privacy_plain.py")
    assert await ed.complete(SECRETS_CURSOR)
    assert GHP in mock.requests[0].body["prompt"]


async def test_a_suggestion_that_repeats_a_placeholder_is_not_shown(
    start_logged: StartLogged, mock: MockCodestral
):
    mock.responder = lambda _body: Reply(text='os.environ.get("REDACTED_SECRET")')
    client, _log, _statuses = await start_logged(
        {"endpoint": mock.url, "apiKey": OWN_KEY, "debounceMs": 0}
    )
    ed = Editor(client, SECRETS_SOURCE, uri="file:///tmp/privacy_echo.py")
    assert await ed.complete(SECRETS_CURSOR) == []
    assert len(mock.requests) == 1


def test_fim_lsp_complete_tells_a_rejected_key_without_any_form_of_it(
    mock: MockCodestral, tmp_path: Path
) -> None:
    import subprocess

    body = json.dumps({"message": f"Invalid API key: {KEY}"}).encode()
    mock.responder = lambda _body: Reply(status=401, body=body)
    source = tmp_path / "demo.py"
    source.write_text(SOURCE)
    line, column = 2, len("    return ") + 1
    settings = json.dumps({"endpoint": mock.url, "apiKey": KEY})
    command = [sys.executable, "-m", "fim_lsp", "complete", f"{source}:{line}:{column}"]
    result = subprocess.run(
        [*command, "--settings", settings],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result
    assert "rejected the API key" in result.stderr
    assert leaks(result.stdout + result.stderr) == []
