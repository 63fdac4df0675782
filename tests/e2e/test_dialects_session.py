"""End to end: the real `fim-lsp` over stdio against a mock of each self-hosted dialect."""

from __future__ import annotations

import asyncio

import pytest
from lsp_support import API_KEY, Editor, until
from mock_fim import MockFim

SOURCE = "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n"
CURSOR = len("def add(a, b):\n    return ")
PREFIX, SUFFIX = SOURCE[:CURSOR], SOURCE[CURSOR:]


@pytest.fixture
def serve():
    """Start mocks of a dialect; each is stopped afterwards."""
    started: list[MockFim] = []

    def start(dialect: str, **kwargs) -> MockFim:
        mock = MockFim(dialect, **kwargs).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


async def suggest(start_server, settings: dict) -> tuple[list[str], object]:
    client = await start_server({"debounceMs": 0, **settings})
    ed = Editor(client, SOURCE)
    items = await ed.complete(CURSOR, invoked=True)
    return [i.insert_text for i in items], client


async def test_ollama_generate_with_suffix(serve, start_server):
    ollama = serve("ollama", reply=lambda body: "a + b")
    items, _ = await suggest(start_server, {"backend": "ollama", "endpoint": ollama.url})
    assert items == ["a + b"]
    [seen] = ollama.generations
    assert seen.path == "/api/generate"
    assert (seen.body["model"], seen.body["prompt"], seen.body["suffix"]) == (
        "qwen2.5-coder:1.5b-base",
        PREFIX,
        SUFFIX,
    )
    assert seen.body["options"]["num_predict"] == 256 and seen.body["stream"] is True
    # No key goes to a server that needs none (the environment holds MISTRAL_API_KEY).
    assert "authorization" not in seen.headers
    assert API_KEY not in str(seen.headers)


async def test_ollama_not_streamed(serve, start_server):
    ollama = serve("ollama", reply=lambda body: "a + b")
    items, _ = await suggest(
        start_server, {"backend": "ollama", "endpoint": ollama.url, "stream": False}
    )
    assert items == ["a + b"] and ollama.generations[0].body["stream"] is False


async def test_ollama_unknown_model_says_to_pull_it(serve, start_server):
    ollama = serve("ollama", reply=lambda body: "a + b")
    items, client = await suggest(
        start_server, {"backend": "ollama", "endpoint": ollama.url, "model": "nope:7b"}
    )
    assert items == []
    await until(
        lambda: any(
            'model "nope:7b" not found' in m.message and "ollama pull" in m.message
            for m in client.messages
        )
    )


async def test_ollama_model_without_insert_names_models_that_have_it(serve, start_server):
    ollama = serve("ollama", reply=lambda body: "a + b")
    items, client = await suggest(
        start_server, {"backend": "ollama", "endpoint": ollama.url, "model": "deepseek-coder"}
    )
    assert items == []
    await until(
        lambda: any(
            "does not support insert" in m.message
            and "qwen2.5-coder" in m.message
            and "deepseek-coder-v2" in m.message
            for m in client.messages
        )
    )


async def test_llamacpp_infill_while_the_model_loads_then_answers(serve, start_server):
    llama = serve("llamacpp", reply=lambda body: "a + b", loading_requests=2)
    items, _ = await suggest(start_server, {"backend": "llamacpp", "endpoint": llama.url})
    assert items == ["a + b"]
    posts = llama.generations
    assert len(posts) == 3, "503 while loading was asked again"
    body = posts[-1].body
    assert (body["input_prefix"], body["input_suffix"], body["cache_prompt"]) == (
        PREFIX,
        SUFFIX,
        True,
    )
    assert body["n_predict"] == 256 and body["input_extra"] == [] and "model" not in body


async def test_llamacpp_still_loading_says_model_loading(serve, start_server):
    llama = serve("llamacpp", reply=lambda body: "a + b", loading_for=60)
    items, client = await suggest(
        start_server, {"backend": "llamacpp", "endpoint": llama.url, "timeoutMs": 1500}
    )
    assert items == []
    await until(lambda: any("Loading model" in m.message for m in client.log_messages))


async def test_openai_completions_with_suffix(serve, start_server):
    server = serve("openai", reply=lambda body: "a + b", api_key="sk-team")
    items, _ = await suggest(
        start_server,
        {
            "backend": "openai",
            "endpoint": server.url,
            "model": "deepseek-coder",
            "apiKey": "sk-team",
            "headers": {"X-Team": "blue"},
        },
    )
    assert items == ["a + b"]
    [seen] = server.generations
    assert (seen.body["prompt"], seen.body["suffix"]) == (PREFIX, SUFFIX)
    assert seen.headers["authorization"] == "Bearer sk-team"
    assert seen.headers["x-team"] == "blue"


async def test_vllm_rejects_suffix_and_the_message_points_at_the_template(serve, start_server):
    vllm = serve("vllm", reply=lambda body: "a + b")
    items, client = await suggest(
        start_server,
        {"backend": "openai", "endpoint": vllm.url, "model": "Qwen/Qwen2.5-Coder-1.5B"},
    )
    assert items == []
    await until(
        lambda: any(
            "suffix is not currently supported" in m.message and "fimLsp.template" in m.message
            for m in client.messages
        )
    )


async def test_vllm_with_the_qwen_template(serve, start_server):
    # The model ends its middle with <|endoftext|> and goes on: none of that may show.
    vllm = serve("vllm", reply=lambda body: "a + b<|endoftext|>\ndef junk():\n")
    items, _ = await suggest(
        start_server,
        {
            "backend": "openai",
            "endpoint": vllm.url,
            "model": "Qwen/Qwen2.5-Coder-1.5B",
            "template": "qwen",
        },
    )
    assert items == ["a + b"]
    [seen] = vllm.generations
    assert seen.body["prompt"] == f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"
    assert "suffix" not in seen.body
    assert "<|endoftext|>" in seen.body["stop"]


async def test_vllm_unknown_model_is_named(serve, start_server):
    vllm = serve("vllm", reply=lambda body: "a + b")
    items, client = await suggest(
        start_server,
        {"backend": "openai", "endpoint": vllm.url, "model": "gpt-x", "template": "qwen"},
    )
    assert items == []
    await until(lambda: any("gpt-x" in m.message for m in client.messages))
    await asyncio.sleep(0)


async def test_http_proxy_is_used_and_no_key_goes_in_clear_to_another_machine(serve, start_server):
    # The mock stands in as the HTTP proxy: the endpoint itself (another machine) is never dialled.
    proxy = serve("ollama", reply=lambda body: "a + b")
    client = await start_server(
        {
            "backend": "ollama",
            "endpoint": "http://192.0.2.99:11434",
            "apiKey": "sk-secret-never-in-clear",
            "debounceMs": 0,
        },
        env={"HTTP_PROXY": proxy.url, "NO_PROXY": ""},
    )
    ed = Editor(client, SOURCE)
    assert [i.insert_text for i in await ed.complete(CURSOR, invoked=True)] == ["a + b"]
    [seen] = proxy.generations
    assert seen.target == "http://192.0.2.99:11434/api/generate"
    assert "authorization" not in seen.headers
    assert "sk-secret-never-in-clear" not in str(seen.headers)
    await until(
        lambda: any(
            "not sending the API key to 192.0.2.99:11434 over plain http://" in m.message
            for m in client.messages
        )
    )
    assert sum("plain http://" in m.message for m in client.messages) == 1
