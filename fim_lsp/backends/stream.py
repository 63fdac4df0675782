"""The streaming runner every dialect shares: send, deadline, bounds, early close, drain, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx

from .errors import APIConnectionError, APIStatusError, APITimeoutError, StreamError
from .inflate import ACCEPT_ENCODING, Inflater
from .limits import (
    DEFAULT_ANSWER_CHARS,
    DRAIN_BYTES,
    DRAIN_SECONDS,
    ERROR_BODY_BYTES,
    ITEM_COST_BYTES,
    YIELD_EVERY_BYTES,
    body_bytes,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Delta:
    """A piece of the model's text; `done`: the answer is complete after it."""

    text: str
    done: bool = False


class Framing(Protocol):
    """Splits a streamed body into items (SSE event data, NDJSON lines)."""

    def feed(self, chunk: bytes) -> list[str]:
        """The items a chunk completes."""

    def close(self) -> list[str]:
        """The items left when the body ends."""


# (response, its body, host) -> the error to raise.
ErrorTranslator = Callable[[httpx.Response, bytes, str], APIStatusError]


async def stream_deltas(
    client: httpx.AsyncClient,
    http_request: httpx.Request,
    *,
    host: str,
    timeout: float,
    framing: Callable[[], Framing],
    parse: Callable[[str], Delta],
    translate_error: ErrorTranslator,
    opened: Callable[[], None] | None = None,
    closed_early: Callable[[], None] | None = None,
    max_chars: int | None = None,
) -> AsyncGenerator[str, None]:
    """Send one request and yield the text deltas of its streamed answer as they arrive.

    `framing` splits the body into items (SSE event data, NDJSON lines), `parse` turns an item
    into a delta, `translate_error` an error response into the exception tree: the dialect's part.

    One deadline, `timeout` seconds from the send, covers every phase: connect, headers, each
    read of the body (a body that drips is stopped at the deadline, not per read), the error
    body; APITimeoutError when it passes. The drain after the answer ends by it too.

    Bounds (fim_lsp/backends/limits.py): the answer text is at most `max_chars` characters
    (default: what the highest maxTokens allows): at the bound the text is cut there and the
    stream is closed, as if the answer were complete. The body may take body_bytes(max_chars)
    bytes from the wire and as many after inflation (inflated in 16 KB pieces, never a chunk
    at once), one line or event LINE_CHARS characters: past those the stream is closed and
    StreamError raised (the server misbehaves; what it sent is not an answer to show).
    An error body is read up to ERROR_BODY_BYTES, by the deadline, and translated as far as read.
    The event loop gets a turn every 16 KB of work or 16 chunks or items.

    Closing the generator (or cancelling the task) closes the HTTP stream: that is how a
    client stops the generation early. Over HTTP/1.1 it costs the connection (`closed_early` is
    called); over HTTP/2 the stream is reset and the connection stays.
    The delta that completes the answer is the last one; the rest of the body (`[DONE]`) is
    read in the background so the connection stays pooled.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    limit = DEFAULT_ANSWER_CHARS if max_chars is None else max(1, max_chars)
    # Only what can be inflated in bounded pieces is asked for (not brotli or zstd).
    http_request.headers["Accept-Encoding"] = ACCEPT_ENCODING
    drained = streaming = ended = False
    try:
        response = await _by(deadline, client.send(http_request, stream=True))
    except (asyncio.TimeoutError, httpx.TimeoutException) as err:
        raise APITimeoutError(f"{host} did not answer within {timeout:g} s") from err
    except httpx.HTTPError as err:
        raise APIConnectionError(f"could not reach {host}: {type(err).__name__}") from err
    try:
        if response.status_code != 200:
            raise translate_error(response, await _error_body(response, deadline), host)
        streaming = True
        if opened is not None:
            # The model is thinking: a good moment for work the answer will need.
            opened()
        decoder = framing()
        pace = _Pace()
        body = _Body(response, deadline, body_bytes(limit), host, pace)
        produced = 0
        try:
            while (piece := await body.read()) is not None:
                items = decoder.feed(piece)
                await pace.spent(len(piece) + ITEM_COST_BYTES)
                for item in items:
                    delta = parse(item)
                    content = delta.text
                    if produced + len(content) > limit:
                        # As long as an answer may be: it ends here, cut to the bound.
                        content = content[: limit - produced]
                        if content:
                            yield content
                        return
                    produced += len(content)
                    if delta.done:
                        # The answer is complete: hand the rest of the body to a drain first,
                        # so even a consumer that stops here leaves the connection reusable.
                        drained = True
                        _drain_later(response, body.raw, min(deadline, loop.time() + DRAIN_SECONDS))
                        if content:
                            yield content
                        return
                    if content:
                        yield content
                    await pace.spent(ITEM_COST_BYTES)
            ended = True
            for item in decoder.close():
                delta = parse(item)
                content = delta.text[: limit - produced]
                produced += len(content)
                if content:
                    yield content
                if delta.done or produced >= limit:
                    return
        except asyncio.TimeoutError as err:
            raise APITimeoutError(
                f"{host} stopped answering: the answer did not finish within {timeout:g} s"
            ) from err
        except httpx.TimeoutException as err:
            raise APITimeoutError(f"{host} stopped answering for {timeout:g} s") from err
        except httpx.HTTPError as err:
            raise APIConnectionError(
                f"the stream from {host} broke off: {type(err).__name__}"
            ) from err
    finally:
        if not drained:
            await response.aclose()
            if (
                streaming
                and not ended
                and closed_early is not None
                and response.http_version != "HTTP/2"
            ):
                closed_early()


async def _by(deadline: float, awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, raising asyncio.TimeoutError when the loop's clock passes `deadline`."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout_at(deadline):
            return await awaitable
    remaining = deadline - asyncio.get_running_loop().time()
    return await asyncio.wait_for(awaitable, max(0.0, remaining))


class _Pace:
    """Counts work since the event loop last had a turn, and gives it one when enough was done."""

    def __init__(self) -> None:
        self._work = 0

    async def spent(self, cost: int) -> None:
        self._work += cost
        if self._work >= YIELD_EVERY_BYTES:
            self._work = 0
            await asyncio.sleep(0)


class _Body:
    """A response body as inflated pieces of at most 16 KB, each read by the deadline, counted."""

    def __init__(
        self, response: httpx.Response, deadline: float, budget: int, host: str, pace: _Pace
    ) -> None:
        if response.is_stream_consumed:
            # Read whole already (as httpx does with a Response built from `content`): the
            # bytes are in memory, decoded.
            self.raw = _once(response.content)
            self._inflater = Inflater("")
        else:
            self.raw = response.aiter_raw()
            self._inflater = Inflater(response.headers.get("content-encoding", ""))
        self._deadline = deadline
        self._budget = budget
        self._host = host
        self._pieces: Iterator[bytes] = iter(())
        self._at_end = False
        self._pace = pace
        self.wire = 0
        self.inflated = 0

    async def read(self) -> bytes | None:
        """The next piece of the body; None at its end.

        Raises StreamError when the body outgrows the budget, on the wire or inflated.
        """
        while True:
            piece = next(self._pieces, None)
            if piece is not None:
                self.inflated += len(piece)
                if self.inflated > self._budget:
                    raise StreamError(
                        f"the answer from {self._host} inflated to over {self._budget} bytes"
                    )
                return piece
            if self._at_end:
                return None
            try:
                chunk = await _by(self._deadline, anext(self.raw))
            except StopAsyncIteration:
                self._at_end = True
                self._pieces = self._inflater.flush()
                continue
            self.wire += len(chunk)
            if self.wire > self._budget:
                raise StreamError(f"the answer from {self._host} is over {self._budget} bytes")
            # A flood of tiny chunks that the HTTP layer had buffered costs per chunk.
            await self._pace.spent(ITEM_COST_BYTES)
            self._pieces = self._inflater.feed(chunk)


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def _error_body(response: httpx.Response, deadline: float) -> bytes:
    """The start of an error body (ERROR_BODY_BYTES at most), as much as arrives by the deadline."""
    parts: list[bytes] = []
    size = 0
    try:
        body = _Body(response, deadline, 2 * ERROR_BODY_BYTES, "", _Pace())
        while size < ERROR_BODY_BYTES and body.wire < ERROR_BODY_BYTES:
            piece = await body.read()
            if piece is None:
                break
            parts.append(piece)
            size += len(piece)
    except (asyncio.TimeoutError, httpx.HTTPError, StreamError):
        # The status says what went wrong; the body only adds the server's words.
        log.debug("an error body was cut short after %d bytes", size)
    return b"".join(parts)[:ERROR_BODY_BYTES]


# Drains in progress (the event loop keeps only weak references to tasks).
_DRAINS: set[asyncio.Task[None]] = set()


def _drain_later(response: httpx.Response, chunks: AsyncIterator[bytes], deadline: float) -> None:
    """Read what is left of a finished stream in the background, then close it."""
    task = asyncio.ensure_future(_drain(response, chunks, deadline))
    _DRAINS.add(task)
    task.add_done_callback(_DRAINS.discard)


async def _drain(response: httpx.Response, chunks: AsyncIterator[bytes], deadline: float) -> None:
    async def read_to_end() -> None:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > DRAIN_BYTES:
                raise StreamError("more after the end of the answer than a drain reads")

    try:
        await _by(deadline, read_to_end())
    except Exception:  # best effort: the answer is out; a failure costs only the reuse
        log.debug("the end of a finished stream could not be read; its connection is closed")
    finally:
        with contextlib.suppress(Exception):
            await response.aclose()
