"""The Codestral backend on httpx.MockTransport: request body, streaming, error translation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from fim_lsp.backends import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
    backend_for,
)
from fim_lsp.context import FimContext
from fim_lsp.settings import Settings

CODESTRAL = backend_for("codestral")
CTX = FimContext("def ", "\n")
SETTINGS = Settings(endpoint="http://model", api_key="secret-key", max_tokens=64)


def stream(http: httpx.AsyncClient, settings: Settings = SETTINGS):
    rendered = CODESTRAL.render(CTX, settings)
    request = CODESTRAL.http_request(http, rendered, settings)
    return CODESTRAL.stream(http, request, rendered, settings)


def sse(*contents: str) -> bytes:
    events = [
        {"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]}
        for c in contents
    ]
    return (
        b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    )


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def collect(http: httpx.AsyncClient, settings: Settings = SETTINGS) -> str:
    parts = []
    async for delta in stream(http, settings):
        parts.append(delta)
    return "".join(parts)


async def test_request_has_only_documented_fields_and_streams() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse("add", "(a, b)")
        )

    async with client(handler) as http:
        assert await collect(http) == "add(a, b)"
    [req] = seen
    assert req.url == "http://model/v1/fim/completions"
    assert req.headers["authorization"] == "Bearer secret-key"
    body = json.loads(req.content)
    assert body == {
        "model": "codestral-latest",
        "prompt": "def ",
        "suffix": "\n",
        "max_tokens": 64,
        "temperature": 0.0,
        "stream": True,
    }


def test_stop_is_sent_as_a_list_only_when_set() -> None:
    body = json.loads(CODESTRAL.render(CTX, Settings(stop=("\n\n",))).content)
    assert body["stop"] == ["\n\n"]


def test_a_lone_surrogate_is_sent_as_the_replacement_character() -> None:
    # Half of a pair (an editor's buffer may hold one) cannot be UTF-8: the body would not encode.
    lone = CODESTRAL.render(FimContext("s = '\ud83d'", "'  # \udc00\U0001f600"), SETTINGS)
    body = json.loads(lone.content.decode("utf-8"))
    assert (body["prompt"], body["suffix"]) == ("s = '\ufffd'", "'  # \ufffd\U0001f600")
    whole = CODESTRAL.render(FimContext("s = '\U0001f600'", ""), SETTINGS)
    assert json.loads(whole.content.decode("utf-8"))["prompt"] == "s = '\U0001f600'"


def test_documented_sampling_fields_are_sent_when_set() -> None:
    settings = Settings(top_p=0.9, min_tokens=2, random_seed=7, stop=("x",))
    body = json.loads(CODESTRAL.render(CTX, settings).content)
    assert (body["top_p"], body["min_tokens"], body["random_seed"]) == (0.9, 2, 7)
    assert set(body) == {
        "model",
        "prompt",
        "suffix",
        "max_tokens",
        "temperature",
        "stream",
        "top_p",
        "min_tokens",
        "random_seed",
        "stop",
    }


async def test_an_answer_that_is_not_streamed_is_parsed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is False
        assert request.headers["accept"] == "application/json"
        answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "a + b"}}]}
        return httpx.Response(200, json=answer)

    async with client(handler) as http:
        assert await collect(http, Settings(endpoint="http://model", stream=False)) == "a + b"


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "words"),
    [
        (
            401,
            {"message": "Unauthorized", "request_id": "r1"},
            {},
            AuthenticationError,
            "rejected the API key",
        ),
        (403, {"detail": "Forbidden"}, {}, AuthenticationError, "Forbidden"),
        (
            404,
            {"object": "error", "message": "Invalid model: x"},
            {},
            RequestRejectedError,
            "Invalid model: x",
        ),
        (
            422,
            {"detail": [{"loc": ["body", "bogus"], "msg": "Extra inputs are not permitted"}]},
            {},
            RequestRejectedError,
            "bogus: Extra inputs are not permitted",
        ),
        (
            429,
            {"message": "Requests rate limit exceeded"},
            {"retry-after": "7"},
            RateLimitError,
            "rate limit",
        ),
        (500, "<html>oops</html>", {}, ServerError, "500"),
    ],
)
async def test_error_statuses_are_translated(status, body, headers, error, words) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        content = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        return httpx.Response(status, headers={"x-request-id": "rid-9", **headers}, content=content)

    async with client(handler) as http:
        with pytest.raises(error) as info:
            await collect(http)
    err = info.value
    assert words in err.message
    assert err.status_code == status
    assert err.request_id == "rid-9"
    assert err.host == "model"
    assert "secret-key" not in str(err)
    if isinstance(err, RateLimitError):
        assert err.retry_after == 7.0


async def test_timeout_is_a_connection_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with client(handler) as http:
        with pytest.raises(APITimeoutError) as info:
            await collect(http)
    assert isinstance(info.value, APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_connection_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client(handler) as http:
        with pytest.raises(APIConnectionError, match="could not reach model"):
            await collect(http)


async def test_malformed_stream() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"data: {not json\n\n")

    async with client(handler) as http:
        with pytest.raises(StreamError):
            await collect(http)


async def test_closing_the_generator_closes_the_response() -> None:
    closed = []

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self):
            for _ in range(100):
                yield sse("x")[: -len(b"data: [DONE]\n\n")]

        async def aclose(self) -> None:
            closed.append(True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body())

    async with client(handler) as http:
        gen = stream(http)
        assert await gen.__anext__() == "x"
        await gen.aclose()
    assert closed == [True]


async def test_finish_reason_ends_the_stream_and_the_rest_is_drained_then_closed() -> None:
    closed = asyncio.Event()
    rest_read = []

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self):
            last = {"choices": [{"index": 0, "delta": {"content": "b"}, "finish_reason": "stop"}]}
            yield sse("a")[: -len(b"data: [DONE]\n\n")]
            yield b"data: " + json.dumps(last).encode() + b"\n\n"
            # A server slow to send [DONE], then one that never ends the body.
            await asyncio.sleep(0.05)
            rest_read.append(True)
            yield b"data: [DONE]\n\n"
            await asyncio.sleep(3600)

        async def aclose(self) -> None:
            closed.set()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Body())

    async with client(handler) as http:
        started = asyncio.get_running_loop().time()
        assert await collect(http) == "ab"
        # The answer did not wait for [DONE]...
        assert asyncio.get_running_loop().time() - started < 0.05
        assert not closed.is_set()
        # ...which a background drain still reads, closing the response after its time limit.
        await asyncio.wait_for(closed.wait(), 2)
        assert rest_read == [True]
