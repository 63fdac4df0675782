"""The Codestral client on httpx.MockTransport: request body, streaming, error translation."""

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
    FimRequest,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
    fim_http_request,
    stream_fim,
)

REQUEST = FimRequest(
    model="codestral-latest", prompt="def ", suffix="\n", max_tokens=64, temperature=0.0
)


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


async def collect(http: httpx.AsyncClient, timeout: float = 5.0) -> str:
    parts = []
    request = fim_http_request(http, "http://model", "secret-key", REQUEST, timeout=timeout)
    async for delta in stream_fim(http, request, host="model", timeout=timeout):
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
    body = FimRequest("m", "p", "s", 8, 0.0, ("\n\n",)).body()
    assert body["stop"] == ["\n\n"]


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
        request = fim_http_request(http, "http://model", "k", REQUEST, timeout=5)
        gen = stream_fim(http, request, host="model", timeout=5)
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
