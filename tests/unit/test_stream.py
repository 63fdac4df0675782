"""The shared streaming runner on httpx.MockTransport: one deadline, bounded cost, loop turns."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from hostile_servers import gzip_repeated

from fim_lsp.backends import APITimeoutError, ServerError, StreamError
from fim_lsp.backends.codestral import CodestralBackend
from fim_lsp.backends.sse import SSEDecoder
from fim_lsp.backends.stream import stream_deltas

parse_delta = CodestralBackend().parse
translate_error = CodestralBackend().translate_error

MB = 1 << 20
# The bounds under test, written out: the test states what the runner promises.
PIECE = 16 << 10
ERROR_BODY = 64 << 10


def event(content: str, finish: str | None = None) -> bytes:
    data = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    return b"data: " + json.dumps(data).encode() + b"\n\n"


class Body(httpx.AsyncByteStream):
    """A response body from an async generator; counts what was pulled and whether it closed."""

    def __init__(self, chunks: Callable[[], AsyncIterator[bytes]]) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.closed = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks():
            self.pulled += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        self.closed.set()


class Recorder(SSEDecoder):
    """The SSE decoder, remembering the largest chunk it was fed and the total."""

    largest = 0
    total = 0

    def feed(self, chunk: bytes) -> list[str]:
        Recorder.largest = max(Recorder.largest, len(chunk))
        Recorder.total += len(chunk)
        return super().feed(chunk)


# The requests the mock transport was sent.
SEEN: list[httpx.Request] = []


def serve(
    body: Body, *, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        SEEN.append(request)
        return httpx.Response(status, headers=headers or {}, stream=body)

    SEEN.clear()
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def run(
    http: httpx.AsyncClient,
    *,
    timeout: float = 5.0,
    max_chars: int | None = None,
    framing: Callable[[], SSEDecoder] = SSEDecoder,
) -> list[str]:
    request = http.build_request("POST", "http://model/v1/fim/completions")
    kwargs = {} if max_chars is None else {"max_chars": max_chars}
    stream = stream_deltas(
        http,
        request,
        host="model",
        timeout=timeout,
        framing=framing,
        parse=parse_delta,
        translate_error=translate_error,
        **kwargs,
    )
    return [delta async for delta in stream]


async def within(seconds: float, coro: object) -> object:
    """Await `coro`, failing (not hanging) when it takes far longer than the runner should."""
    return await asyncio.wait_for(coro, seconds)  # type: ignore[arg-type]


async def forever() -> None:
    await asyncio.sleep(3600)


class Ticker:
    """Measures the longest the event loop went without running another task."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    def _mark(self) -> None:
        now = asyncio.get_running_loop().time()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    async def __aenter__(self) -> Ticker:
        async def tick() -> None:
            while True:
                await asyncio.sleep(0)
                self._mark()

        self._last = asyncio.get_running_loop().time()
        self._task = asyncio.ensure_future(tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # The gap up to now counts too (a loop that never let the ticker run at all).
        self._mark()
        assert self._task is not None
        self._task.cancel()


async def test_asks_only_for_encodings_it_inflates_in_pieces() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield event("x", "stop")

    async with serve(Body(chunks)) as http:
        assert await run(http) == ["x"]
    assert SEEN[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_small_gzip_answer_of_comment_lines_leaves_the_loop_free() -> None:
    # 5.9 KB of gzip inflating to 3 MB of comment lines, then an answer, in one chunk.
    body = zlib.compress(b": keep-alive\n" * 230_000 + event("ok", "stop"), 9, wbits=31)
    assert len(body) < 6000

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    Recorder.largest = 0
    async with (
        Ticker() as ticker,
        serve(Body(chunks), headers={"content-encoding": "gzip"}) as http,
    ):
        assert await within(10, run(http, framing=Recorder)) == ["ok"]
    assert Recorder.largest <= PIECE
    assert ticker.longest < 0.1


async def test_a_gzip_bomb_inflates_in_pieces_and_ends_at_the_byte_bound() -> None:
    # 256 MB of comment lines in ~260 KB of gzip, sent as one chunk: no line is too long, so
    # only the bound on inflated bytes stops it.
    bomb = b"".join(gzip_repeated(b":\n" * (MB // 2), 256))
    body = Body(lambda: _once(bomb))
    Recorder.largest = Recorder.total = 0
    async with Ticker() as ticker, serve(body, headers={"content-encoding": "gzip"}) as http:
        with pytest.raises(StreamError, match="inflated to over"):
            await within(10, run(http, max_chars=1000, framing=Recorder))
    assert Recorder.largest <= PIECE
    # 1 MB + 32 bytes per answer character.
    assert Recorder.total <= MB + 32 * 1000
    assert ticker.longest < 0.1
    assert body.closed.is_set()


async def test_bytes_from_the_wire_are_bounded() -> None:
    async def flood() -> AsyncIterator[bytes]:
        while True:
            yield b": " + b"x" * 1000 + b"\n"

    body = Body(flood)
    async with Ticker() as ticker, serve(body) as http:
        with pytest.raises(StreamError, match="is over"):
            await within(10, run(http, max_chars=1000))
    assert body.pulled <= MB + 32 * 1000 + 1100
    assert ticker.longest < 0.1


async def test_a_flood_of_tiny_chunks_gives_the_loop_turns() -> None:
    async def tiny() -> AsyncIterator[bytes]:
        for _ in range(50_000):
            yield b":\n"
        yield event("ok", "stop")

    async with Ticker() as ticker, serve(Body(tiny)) as http:
        assert await within(20, run(http)) == ["ok"]
    assert ticker.longest < 0.1


async def test_a_flood_of_events_gives_the_loop_turns() -> None:
    async def events() -> AsyncIterator[bytes]:
        yield event("") * 50_000 + event("ok", "stop")

    async with Ticker() as ticker, serve(Body(events)) as http:
        assert await within(20, run(http)) == ["ok"]
    assert ticker.longest < 0.1


async def test_the_answer_ends_at_its_length_bound_cut_there() -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield event("abc")

    body = Body(endless)
    async with serve(body) as http:
        deltas = await within(10, run(http, max_chars=100))
    assert "".join(deltas) == ("abc" * 34)[:100]
    assert body.closed.is_set()


async def test_an_error_body_is_read_only_in_part() -> None:
    async def huge() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * MB

    body = Body(huge)
    async with serve(body, status=500) as http:
        with pytest.raises(ServerError) as info:
            await within(10, run(http))
    assert body.pulled <= MB
    assert len(info.value.body) <= ERROR_BODY
    assert body.closed.is_set()


async def test_an_error_body_that_drips_ends_at_the_deadline_with_what_came() -> None:
    async def drip() -> AsyncIterator[bytes]:
        for byte in b'{"message": "overloaded"}':
            yield bytes([byte])
            await asyncio.sleep(0.1)

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with serve(Body(drip), status=503) as http:
        with pytest.raises(ServerError, match=r"503: \{"):
            await within(5, run(http, timeout=0.5))
    assert loop.time() - started < 0.8


async def test_headers_that_never_come_end_at_the_deadline() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await forever()
        raise AssertionError

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(APITimeoutError, match=r"did not answer within 0\.3 s"):
            await within(5, run(http, timeout=0.3))
    assert loop.time() - started < 0.6


@pytest.mark.parametrize("pause", [3600, 0.05])
async def test_a_stream_that_hangs_or_drips_ends_at_the_deadline(pause: float) -> None:
    got: list[str] = []

    async def hangs() -> AsyncIterator[bytes]:
        yield event("a + ")
        while True:
            await asyncio.sleep(pause)
            yield b":"

    body = Body(hangs)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with serve(body) as http:
        request = http.build_request("POST", "http://model/v1/fim/completions")
        stream = stream_deltas(
            http,
            request,
            host="model",
            timeout=0.4,
            framing=SSEDecoder,
            parse=parse_delta,
            translate_error=translate_error,
        )

        async def consume() -> None:
            async for delta in stream:
                got.append(delta)

        with pytest.raises(
            APITimeoutError, match=r"stopped answering: the answer did not finish within 0\.4 s"
        ):
            await within(5, consume())
    assert got == ["a + "]
    assert loop.time() - started < 0.7
    assert body.closed.is_set()


async def test_cancelling_propagates_and_closes_the_stream() -> None:
    async def hangs() -> AsyncIterator[bytes]:
        yield event("a")
        await forever()
        yield b""

    body = Body(hangs)
    async with serve(body) as http:
        task = asyncio.ensure_future(run(http))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert body.closed.is_set()


async def test_the_drain_after_the_answer_reads_a_bounded_amount() -> None:
    async def flood_after_the_end() -> AsyncIterator[bytes]:
        yield event("a", "stop")
        while True:
            yield b":" * MB + b"\n"

    body = Body(flood_after_the_end)
    async with serve(body) as http:
        assert await run(http) == ["a"]
        await within(2, body.closed.wait())
    # The answer's chunk, and the drain stops at its first chunk past 64 KB.
    assert body.pulled <= 2 * (MB + 1) + 200


async def test_the_drain_ends_by_the_deadline() -> None:
    async def slow_end() -> AsyncIterator[bytes]:
        yield event("a", "stop")
        await forever()
        yield b""

    body = Body(slow_end)
    loop = asyncio.get_running_loop()
    async with serve(body) as http:
        started = loop.time()
        assert await run(http, timeout=0.05) == ["a"]
        await within(2, body.closed.wait())
    # The drain's own limit (0.2 s) is cut to what is left of the 0.05 s timeout.
    assert loop.time() - started < 0.15


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
