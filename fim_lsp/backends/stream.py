"""The streaming runner every dialect shares: send, deadline, early close, drain, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from .errors import APIConnectionError, APIStatusError, APITimeoutError

log = logging.getLogger(__name__)

# How long to read on after the answer is complete (a [DONE], the body's end) to reuse the connection.
_DRAIN_SECONDS = 0.2


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
) -> AsyncGenerator[str, None]:
    """Send one request and yield the text deltas of its streamed answer as they arrive.

    `framing` splits the body into items (SSE event data, NDJSON lines), `parse` turns an item
    into a delta, `translate_error` an error response into the exception tree: the dialect's part.

    Closing the generator (or cancelling the task) closes the HTTP stream: that is how a
    client stops the generation early. Over HTTP/1.1 it costs the connection (`closed_early` is
    called); over HTTP/2 the stream is reset and the connection stays.
    The delta that completes the answer is the last one; the rest of the body (`[DONE]`) is
    read in the background so the connection stays pooled.
    """
    deadline = time.monotonic() + timeout
    drained = streaming = ended = False
    try:
        response = await client.send(http_request, stream=True)
    except httpx.TimeoutException as err:
        raise APITimeoutError(f"{host} did not answer within {timeout:g} s") from err
    except httpx.HTTPError as err:
        raise APIConnectionError(f"could not reach {host}: {type(err).__name__}") from err
    try:
        if response.status_code != 200:
            raise translate_error(response, await response.aread(), host)
        streaming = True
        if opened is not None:
            # The model is thinking: a good moment for work the answer will need.
            opened()
        decoder = framing()
        chunks = response.aiter_bytes()
        try:
            async for chunk in chunks:
                for item in decoder.feed(chunk):
                    delta = parse(item)
                    content = delta.text
                    if delta.done:
                        # The answer is complete: hand the rest of the body to a drain first,
                        # so even a consumer that stops here leaves the connection reusable.
                        drained = True
                        _drain_later(response, chunks)
                        if content:
                            yield content
                        return
                    if content:
                        yield content
                if time.monotonic() > deadline:
                    raise APITimeoutError(f"{host} did not finish within {timeout:g} s")
            ended = True
            for item in decoder.close():
                delta = parse(item)
                if delta.text:
                    yield delta.text
                if delta.done:
                    return
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


# Drains in progress (the event loop keeps only weak references to tasks).
_DRAINS: set[asyncio.Task[None]] = set()


def _drain_later(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Read what is left of a finished stream in the background, then close it."""
    task = asyncio.ensure_future(_drain(response, chunks))
    _DRAINS.add(task)
    task.add_done_callback(_DRAINS.discard)


async def _drain(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    async def read_to_end() -> None:
        async for _chunk in chunks:
            pass

    try:
        await asyncio.wait_for(read_to_end(), _DRAIN_SECONDS)
    except Exception:  # best effort: the answer is out; a failure costs only the reuse
        log.debug("the end of a finished stream could not be read; its connection is closed")
    finally:
        with contextlib.suppress(Exception):
            await response.aclose()
