"""`fim-lsp check`: exit 0 against a healthy endpoint, 1 with one clear line for each failure."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from lsp_support import server_env
from mock_codestral import MockCodestral, Reply
from mock_fim import MockFim

CODESTRAL_KEY = "codestral-key-0123456789"
MISTRAL_KEY = "mistral-key-9876543210"


def check(settings: dict | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "fim_lsp", "check"]
    if settings is not None:
        args += ["--settings", json.dumps(settings)]
    return subprocess.run(
        args, capture_output=True, text=True, env=server_env(**env), timeout=60, check=False
    )


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("\u2717")]


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mistral_hosts() -> Iterator[tuple[MockCodestral, MockCodestral, dict[str, str]]]:
    """Stand-ins for codestral.mistral.ai and api.mistral.ai, each taking only its kind of key."""
    codestral = MockCodestral(responder=lambda body: Reply(text="a + b"), api_key=CODESTRAL_KEY)
    mistral = MockCodestral(responder=lambda body: Reply(text="a + b"), api_key=MISTRAL_KEY)
    with codestral, mistral:
        env = {
            "FIM_LSP_CODESTRAL_ENDPOINT": codestral.url,
            "FIM_LSP_MISTRAL_ENDPOINT": mistral.url,
        }
        yield codestral, mistral, env


@pytest.mark.parametrize(
    ("dialect", "settings"),
    [
        ("ollama", {"backend": "ollama"}),
        ("llamacpp", {"backend": "llamacpp"}),
        ("openai", {"backend": "openai", "model": "deepseek-coder"}),
        ("vllm", {"backend": "openai", "model": "Qwen/Qwen2.5-Coder-1.5B", "template": "qwen"}),
    ],
)
def test_healthy_self_hosted_endpoints_pass(dialect: str, settings: dict) -> None:
    with MockFim(dialect, reply=lambda body: "a + b") as mock:
        result = check({**settings, "endpoint": mock.url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert failures(result) == []
    out = result.stdout
    assert f"backend: {settings['backend']} (settings)" in out
    assert f"endpoint: {mock.url} (settings)" in out
    assert "FIM call: first token" in out and "'a + b'" in out
    assert "HTTP version: HTTP/1.1" in out and "proxy: none" in out


def test_healthy_codestral_with_the_environments_key(mistral_hosts) -> None:
    codestral, _mistral, env = mistral_hosts
    result = check(None, CODESTRAL_API_KEY=CODESTRAL_KEY, FIM_LSP_ENDPOINT=codestral.url, **env)
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert "endpoint: " + codestral.url + " (environment (FIM_LSP_ENDPOINT))" in out
    assert "API key: present, not shown (from environment (CODESTRAL_API_KEY))" in out
    assert "key accepted by" in out and "model codestral-latest is available" in out
    assert CODESTRAL_KEY not in result.stdout + result.stderr


def test_a_la_plateforme_key_against_codestral_is_named(mistral_hosts) -> None:
    codestral, mistral, env = mistral_hosts
    result = check({"endpoint": codestral.url, "apiKey": MISTRAL_KEY}, **env)
    assert result.returncode == 1
    [line] = failures(result)
    assert "it is a La Plateforme key" in line and f"set endpoint to {mistral.url}" in line
    assert MISTRAL_KEY not in result.stdout + result.stderr


def test_a_codestral_key_against_la_plateforme_is_named(mistral_hosts) -> None:
    codestral, mistral, env = mistral_hosts
    result = check({"endpoint": mistral.url, "apiKey": CODESTRAL_KEY}, **env)
    assert result.returncode == 1
    [line] = failures(result)
    assert "it is a Codestral key" in line and f"set endpoint to {codestral.url}" in line


def test_a_wrong_key_anywhere(mistral_hosts) -> None:
    codestral, _mistral, env = mistral_hosts
    result = check({"endpoint": codestral.url, "apiKey": "wrong-key-000000"}, **env)
    assert result.returncode == 1
    [line] = failures(result)
    assert "key rejected by" in line and "wrong-key" not in result.stdout
    with MockFim("openai", api_key="sk-right") as server:
        result = check({"backend": "openai", "endpoint": server.url, "apiKey": "sk-wrong"})
    assert result.returncode == 1
    [line] = failures(result)
    assert "key rejected" in line and "sk-wrong" not in result.stdout


def test_no_key_for_codestral() -> None:
    result = check({})
    assert result.returncode == 1
    [line] = failures(result)
    assert "API key: none" in line and "CODESTRAL_API_KEY" in line


@pytest.mark.parametrize(
    ("dialect", "settings", "words"),
    [
        ("ollama", {"backend": "ollama", "model": "nope:7b"}, "ollama pull nope:7b"),
        (
            "vllm",
            {"backend": "openai", "model": "gpt-x", "template": "qwen"},
            "model gpt-x not found",
        ),
    ],
)
def test_an_unknown_model(dialect: str, settings: dict, words: str) -> None:
    with MockFim(dialect, reply=lambda body: "a + b") as mock:
        result = check({**settings, "endpoint": mock.url})
    assert result.returncode == 1
    [line] = failures(result)
    assert words in line and "it has:" in line


def test_an_unknown_codestral_model(mistral_hosts) -> None:
    codestral, _mistral, _env = mistral_hosts
    result = check({"endpoint": codestral.url, "apiKey": CODESTRAL_KEY, "model": "codestral-x"})
    assert result.returncode == 1
    [line] = failures(result)
    assert "model codestral-x not found" in line and "codestral-latest" in line


@pytest.mark.parametrize("backend", ["codestral", "ollama", "llamacpp", "openai"])
def test_a_dead_port(backend: str) -> None:
    url = f"http://127.0.0.1:{dead_port()}"
    result = check({"backend": backend, "endpoint": url, "apiKey": "k-000000"})
    assert result.returncode == 1
    [line] = failures(result)
    assert f"cannot reach {url}" in line


def test_vllm_without_the_template_says_to_set_it() -> None:
    with MockFim("vllm", reply=lambda body: "a + b") as mock:
        result = check({"backend": "openai", "endpoint": mock.url})
    assert result.returncode == 1
    [line] = failures(result)
    assert "suffix is not currently supported" in line and "fimLsp.template" in line


def test_the_proxy_in_use_is_named_and_no_proxy_honoured() -> None:
    with MockFim("ollama", reply=lambda body: "a + b") as mock:
        via = check({"backend": "ollama", "endpoint": mock.url}, HTTP_PROXY=mock.url)
        bypass = check(
            {"backend": "ollama", "endpoint": mock.url},
            HTTP_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1",
        )
    assert f"proxy: {mock.url}" in via.stdout
    assert bypass.returncode == 0 and "proxy: none" in bypass.stdout


def test_a_withheld_key_is_said() -> None:
    result = check({"endpoint": "https://gateway.example.invalid"}, MISTRAL_API_KEY=MISTRAL_KEY)
    assert result.returncode == 1
    lines = failures(result)
    assert any("not sending MISTRAL_API_KEY to gateway.example.invalid" in x for x in lines)
    assert MISTRAL_KEY not in result.stdout


async def test_the_servers_command_returns_the_same_lines() -> None:
    from fim_lsp.check import check_command

    with MockFim("ollama", reply=lambda body: "a + b") as mock:
        result = await check_command({"fimLsp": {"backend": "ollama", "endpoint": mock.url}})
    assert result["ok"] is True
    assert result["text"] == "\n".join(result["lines"])
    assert any("FIM call" in line for line in result["lines"])


def test_ca_bundle_trusts_a_company_ca_and_http2_is_named(tmp_path) -> None:
    # The TLS endpoint of the HTTP/2 tests, its certificate from a throwaway CA.
    http2 = pytest.importorskip("test_http2")
    if http2.serve is None:
        pytest.skip("hypercorn is not installed")
    certs = http2.make_certs(tmp_path)
    endpoint = http2.H2Codestral(certs).start()
    try:
        settings = {"endpoint": endpoint.url, "apiKey": "k-0000000000"}
        untrusted = check(settings, NO_PROXY="127.0.0.1")
        trusted = check({**settings, "caBundle": str(certs.ca)}, NO_PROXY="127.0.0.1")
    finally:
        endpoint.stop()
    assert untrusted.returncode == 1
    [line] = failures(untrusted)
    assert "is not trusted" in line and "caBundle" in line
    assert trusted.returncode == 0, trusted.stdout
    assert "HTTP version: HTTP/2" in trusted.stdout


async def test_the_server_runs_the_check_as_its_fimlsp_check_command(start_server) -> None:
    from lsprotocol import types

    with MockFim("ollama", reply=lambda body: "a + b") as mock:
        client = await start_server({"backend": "ollama", "endpoint": mock.url}, env={})
        assert (
            "fimLsp.check"
            in client.initialize_result.capabilities.execute_command_provider.commands
        )
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="fimLsp.check")
        )
    assert result["ok"] is True, result
    assert any("FIM call: first token" in line for line in result["lines"])
    assert result["text"] == "\n".join(result["lines"])


def test_a_password_in_the_endpoint_url_is_never_printed() -> None:
    # http://user:password@host (a gateway behind basic auth): the check says the host, and the
    # endpoint line keeps the user name but not the password, also when the host cannot be reached.
    password = "gw-Pass-7781x"
    with MockFim("llamacpp", reply=lambda body: "a + b") as mock:
        url = mock.url.replace("http://", f"http://gateway:{password}@")
        reached = check({"backend": "llamacpp", "endpoint": url})
    unreached = check(
        {"backend": "llamacpp", "endpoint": f"http://gateway:{password}@127.0.0.1:{dead_port()}"}
    )
    assert reached.returncode == 0, reached.stdout + reached.stderr
    assert "endpoint: http://gateway:<hidden>@127.0.0.1:" in reached.stdout
    assert unreached.returncode == 1 and failures(unreached)
    for result in (reached, unreached):
        assert password not in result.stdout + result.stderr
