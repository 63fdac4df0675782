"""Every dialect on httpx.MockTransport: exact bodies, framing, whole answers, errors, templates."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fim_lsp.backends import (
    ModelLoadingError,
    RateLimitError,
    RequestRejectedError,
    backend_for,
    retry_after,
)
from fim_lsp.backends.base import StopCutter
from fim_lsp.backends.templates import BUILTIN, template_for
from fim_lsp.context import FimContext
from fim_lsp.settings import Settings

CTX = FimContext("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n")


def settings(backend: str, **more: Any) -> Settings:
    endpoints = {
        "codestral": "http://model",
        "ollama": "http://127.0.0.1:11434",
        "llamacpp": "http://127.0.0.1:8012",
        "openai": "http://127.0.0.1:8000",
    }
    return Settings(backend=backend, endpoint=endpoints[backend], max_tokens=32, **more)


async def run(
    s: Settings, handler: Callable[[httpx.Request], httpx.Response], ctx: FimContext = CTX
) -> tuple[str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    backend = backend_for(s.backend)
    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        rendered = backend.render(ctx, s)
        request = backend.http_request(http, rendered, s)
        parts = [t async for t in backend.stream(http, request, rendered, s)]
    return "".join(parts), seen


def sse(*objs: Any, done: bool = True) -> bytes:
    out = b"".join(b"data: " + json.dumps(o).encode() + b"\n\n" for o in objs)
    return out + (b"data: [DONE]\n\n" if done else b"")


# -- Ollama ------------------------------------------------------------------------------


async def test_ollama_generate_with_suffix_and_ndjson_stream() -> None:
    lines = [
        {"model": "m", "created_at": "t", "response": "a", "done": False},
        {"model": "m", "created_at": "t", "response": " + b", "done": False},
        {"model": "m", "created_at": "t", "response": "", "done": True, "done_reason": "stop"},
    ]
    body = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    text, [req] = await run(
        settings("ollama", model="qwen2.5-coder:1.5b-base", stop=("\n\n",)),
        lambda r: httpx.Response(
            200, content=body, headers={"content-type": "application/x-ndjson"}
        ),
    )
    assert text == "a + b"
    assert req.url == "http://127.0.0.1:11434/api/generate"
    assert "authorization" not in req.headers
    assert json.loads(req.content) == {
        "model": "qwen2.5-coder:1.5b-base",
        "prompt": CTX.prompt,
        "suffix": CTX.suffix,
        "stream": True,
        "keep_alive": "30m",
        "options": {"num_predict": 32, "temperature": 0.0, "stop": ["\n\n"]},
    }


async def test_ollama_not_streamed() -> None:
    answer = {"model": "m", "response": "a + b", "done": True}
    text, [req] = await run(
        settings("ollama", stream=False), lambda r: httpx.Response(200, json=answer)
    )
    assert text == "a + b" and json.loads(req.content)["stream"] is False


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (404, 'model "nope" not found, try pulling it first', "ollama pull"),
        (
            400,
            "registry.ollama.ai/library/deepseek-coder:latest does not support insert",
            "qwen2.5-coder",
        ),
    ],
)
async def test_ollama_errors_say_what_to_do(status: int, error: str, words: str) -> None:
    with pytest.raises(RequestRejectedError) as info:
        await run(settings("ollama"), lambda r: httpx.Response(status, json={"error": error}))
    assert error in info.value.message and words in info.value.hint


async def test_ollama_error_line_mid_stream() -> None:
    body = b'{"response":"a","done":false}\n{"error":"out of memory"}\n'
    with pytest.raises(Exception, match="out of memory"):
        await run(settings("ollama"), lambda r: httpx.Response(200, content=body))


# -- llama.cpp ---------------------------------------------------------------------------


async def test_llamacpp_infill_ends_at_the_stop_event_without_done() -> None:
    body = sse({"content": "a", "stop": False}, {"content": " + b", "stop": False}, done=False)
    body += b'data: {"content": "", "stop": true, "stop_type": "eos", "timings": {}}\n\n'
    text, [req] = await run(settings("llamacpp"), lambda r: httpx.Response(200, content=body))
    assert text == "a + b"
    assert req.url == "http://127.0.0.1:8012/infill"
    assert json.loads(req.content) == {
        "input_prefix": CTX.prompt,
        "input_suffix": CTX.suffix,
        "input_extra": [],
        "n_predict": 32,
        "t_max_predict_ms": 5000,
        "cache_prompt": True,
        "temperature": 0.0,
        "stream": True,
    }


async def test_llamacpp_503_loading_is_retried_within_the_timeout() -> None:
    answers = [
        httpx.Response(
            503,
            json={"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}},
        ),
        httpx.Response(200, content=sse({"content": "a + b", "stop": True}, done=False)),
    ]
    text, seen = await run(settings("llamacpp"), lambda r: answers.pop(0))
    assert text == "a + b" and len(seen) == 2


async def test_llamacpp_still_loading_at_the_timeout_says_so() -> None:
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    started = time.monotonic()
    with pytest.raises(ModelLoadingError) as info:
        await run(
            settings("llamacpp", timeout_ms=1200), lambda r: httpx.Response(503, json=loading)
        )
    assert time.monotonic() - started < 2
    assert "Loading model" in info.value.message and "loading" in info.value.hint


async def test_llamacpp_not_streamed() -> None:
    text, _ = await run(
        settings("llamacpp", stream=False),
        lambda r: httpx.Response(200, json={"content": "a + b", "stop": True}),
    )
    assert text == "a + b"


# -- OpenAI-style ------------------------------------------------------------------------


async def test_openai_completions_with_suffix() -> None:
    body = sse(
        {"choices": [{"index": 0, "text": "a", "finish_reason": None}]},
        {"choices": [{"index": 0, "text": " + b", "finish_reason": "stop"}]},
    )
    s = settings("openai", model="deepseek-coder", api_key="sk-1", headers=(("X-Team", "t"),))
    text, [req] = await run(s, lambda r: httpx.Response(200, content=body))
    assert text == "a + b"
    assert req.url == "http://127.0.0.1:8000/v1/completions"
    assert req.headers["authorization"] == "Bearer sk-1" and req.headers["x-team"] == "t"
    assert json.loads(req.content) == {
        "model": "deepseek-coder",
        "prompt": CTX.prompt,
        "suffix": CTX.suffix,
        "max_tokens": 32,
        "temperature": 0.0,
        "stream": True,
    }


def test_openai_endpoint_with_a_path_keeps_it() -> None:
    s = Settings(backend="openai", endpoint="https://api.deepseek.com/beta")
    assert backend_for("openai").render(CTX, s).url == "https://api.deepseek.com/beta/completions"


async def test_openai_not_streamed() -> None:
    answer = {"choices": [{"index": 0, "text": "a + b", "finish_reason": "stop"}]}
    text, _ = await run(
        settings("openai", stream=False), lambda r: httpx.Response(200, json=answer)
    )
    assert text == "a + b"


async def test_vllm_rejecting_suffix_points_at_the_template() -> None:
    error = {
        "object": "error",
        "message": "suffix is not currently supported",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    with pytest.raises(RequestRejectedError) as info:
        await run(settings("openai"), lambda r: httpx.Response(400, json=error))
    assert "suffix is not currently supported" in info.value.message
    assert "fimLsp.template" in info.value.hint and '"qwen"' in info.value.hint


# -- Templates ---------------------------------------------------------------------------

RENDERED = {
    "qwen": "<|fim_prefix|>P{x}<|fim_suffix|>S{suffix}<|fim_middle|>",
    "starcoder": "<fim_prefix>P{x}<fim_suffix>S{suffix}<fim_middle>",
    "deepseek": "<｜fim▁begin｜>P{x}<｜fim▁hole｜>S{suffix}<｜fim▁end｜>",  # noqa: RUF001
    "codellama": "<PRE> P{x} <SUF>S{suffix} <MID>",
    "codestral": "[SUFFIX]S{suffix}[PREFIX]P{x}",
    "codegemma": "<|fim_prefix|>P{x}<|fim_suffix|>S{suffix}<|fim_middle|>",
}


@pytest.mark.parametrize("name", sorted(BUILTIN))
async def test_each_template_renders_exactly_and_its_stop_tokens_never_show(name: str) -> None:
    assert set(RENDERED) == set(BUILTIN)
    template = BUILTIN[name]
    # Code that holds the slot names is sent as it is.
    ctx = FimContext("P{x}", "S{suffix}")
    stop = template.stops[0]
    # The stop token arrives split over two events, after the answer.
    half = len(stop) // 2
    body = sse(
        {"choices": [{"index": 0, "text": "a + b" + stop[:half], "finish_reason": None}]},
        {"choices": [{"index": 0, "text": stop[half:] + "junk", "finish_reason": None}]},
        {"choices": [{"index": 0, "text": "more junk", "finish_reason": "stop"}]},
    )
    text, [req] = await run(
        settings("openai", template=name), lambda r: httpx.Response(200, content=body), ctx
    )
    sent = json.loads(req.content)
    assert sent["prompt"] == RENDERED[name]
    assert "suffix" not in sent
    assert sent["stop"] == list(template.stops[:4])
    assert text == "a + b"


async def test_a_custom_template_and_ollama_raw() -> None:
    s = settings("ollama", template="<PRE>{prefix}<SUF>{suffix}<MID>")
    body = b'{"response":"a + b","done":true}\n'
    text, [req] = await run(s, lambda r: httpx.Response(200, content=body), FimContext("p", "s"))
    sent = json.loads(req.content)
    assert (sent["prompt"], sent["raw"], "suffix" in sent) == ("<PRE>p<SUF>s<MID>", True, False)
    assert text == "a + b"
    assert template_for("") is None


def test_the_stop_cutter_holds_back_only_what_may_start_a_stop() -> None:
    cutter = StopCutter(("<|endoftext|>",))
    assert cutter.feed("a <") == "a "
    assert cutter.feed("b") == "<b"
    assert cutter.feed("<|endof") == ""
    assert cutter.feed("text|> no") == "" and cutter.stopped
    cutter = StopCutter(("<EOT>",))
    assert cutter.feed("x <E") == "x "
    assert cutter.close() == "<E"


# -- Retry-After -------------------------------------------------------------------------


def test_retry_after_forms_are_capped_at_a_minute() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("0.5") == 0.5
    assert retry_after("1000000000") == 60.0
    assert retry_after("inf") == 60.0
    assert retry_after("1e400") == 60.0
    assert retry_after("-5") == 0.0
    assert retry_after("nan") is None
    assert retry_after("soon") is None
    assert retry_after(None) is None
    now = time.time()
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(
        30, abs=1
    )
    assert retry_after(email.utils.formatdate(now + 86400 * 365, usegmt=True), now=now) == 60.0
    assert retry_after(email.utils.formatdate(now - 100, usegmt=True), now=now) == 0.0


async def test_a_429_with_a_huge_retry_after_is_capped() -> None:
    with pytest.raises(RateLimitError) as info:
        await run(
            settings("codestral"),
            lambda r: httpx.Response(429, headers={"retry-after": "inf"}, json={"message": "slow"}),
        )
    assert info.value.retry_after == 60.0
