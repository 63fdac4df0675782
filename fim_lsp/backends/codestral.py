"""The Codestral FIM dialect: request body, streamed answer, error translation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
)
from .sse import SSEDecoder

log = logging.getLogger(__name__)

FIM_PATH = "/v1/fim/completions"
# How long to read on after finish_reason (for [DONE] and the body's end) to reuse the connection.
_DRAIN_SECONDS = 0.2


@dataclass(frozen=True)
class FimRequest:
    """One FIM request: only fields the API documents (it rejects unknown ones with 422)."""

    model: str
    prompt: str
    suffix: str
    max_tokens: int
    temperature: float
    stop: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        """The JSON body, streamed."""
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt,
            "suffix": self.suffix,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": True,
        }
        if self.stop:
            body["stop"] = list(self.stop)
        return body


def parse_event(data: str) -> tuple[str, str | None, bool]:
    """One event's data -> (content delta, finish_reason, is the [DONE] marker)."""
    if data.strip() == "[DONE]":
        return "", None, True
    try:
        obj = json.loads(data)
        choice = obj["choices"][0] if obj.get("choices") else {}
        delta = choice.get("delta") or {}
        content = delta.get("content") or ""
        finish = choice.get("finish_reason")
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as err:
        raise StreamError(f"malformed event in the model's stream: {data[:80]!r}") from err
    if not isinstance(content, str):
        raise StreamError(f"malformed event in the model's stream: {data[:80]!r}")
    return content, finish if isinstance(finish, str) else None, False


def _error_message(body: Any, fallback: str) -> str:
    """The API's own words from any of its error shapes."""
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, str) and msg:
            return msg
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list) and detail:
            parts = []
            for d in detail[:3]:
                if isinstance(d, dict):
                    loc = ".".join(str(x) for x in d.get("loc", []) if x != "body")
                    parts.append(f"{loc}: {d.get('msg', '')}".strip(": "))
            if parts:
                return "; ".join(parts)
    if isinstance(body, str) and body.strip():
        return body.strip()[:200]
    return fallback


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def status_error(response: httpx.Response, host: str) -> APIStatusError:
    """Translate an error response into the exception tree."""
    raw = await response.aread()
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    status = response.status_code
    request_id = response.headers.get("x-request-id") or (
        body.get("request_id") if isinstance(body, dict) else None
    )
    message = _error_message(body, response.reason_phrase or f"HTTP {status}")
    common: dict[str, Any] = {
        "status_code": status,
        "body": body,
        "request_id": request_id,
        "host": host,
    }
    if status in (401, 403):
        return AuthenticationError(f"{host} rejected the API key ({status}: {message})", **common)
    if status == 429:
        return RateLimitError(
            f"{host} is rate limiting requests (429: {message})",
            retry_after=_retry_after(response.headers),
            **common,
        )
    if status in (400, 404, 422):
        return RequestRejectedError(f"{host} refused the request ({status}: {message})", **common)
    if status >= 500:
        return ServerError(f"{host} failed ({status}: {message})", **common)
    return APIStatusError(f"{host} answered {status}: {message}", **common)


def fim_http_request(
    client: httpx.AsyncClient,
    base_url: str,
    api_key: str,
    request: FimRequest,
    *,
    timeout: float,
) -> httpx.Request:
    """The HTTP request of one FIM call, built ahead of time so sending it is all that is left."""
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
    }
    return client.build_request(
        "POST",
        base_url + FIM_PATH,
        headers=headers,
        content=json.dumps(request.body()).encode(),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
    )


async def stream_fim(
    client: httpx.AsyncClient,
    http_request: httpx.Request,
    *,
    host: str,
    timeout: float,
    opened: Callable[[], None] | None = None,
    closed_early: Callable[[], None] | None = None,
) -> AsyncGenerator[str, None]:
    """Send one FIM request and yield the content deltas as they stream in.

    Closing the generator (or cancelling the task) closes the HTTP stream: that is how a
    client stops the generation early. Over HTTP/1.1 it costs the connection (`closed_early` is
    called); over HTTP/2 the stream is reset and the connection stays.
    The delta that carries finish_reason is the last one; the rest of the body (`[DONE]`) is
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
            raise await status_error(response, host)
        streaming = True
        if opened is not None:
            # The model is thinking: a good moment for work the answer will need.
            opened()
        decoder = SSEDecoder()
        chunks = response.aiter_bytes()
        try:
            async for chunk in chunks:
                for data in decoder.feed(chunk):
                    content, finish, done = parse_event(data)
                    if done or finish is not None:
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
            for data in decoder.close():
                content, _finish, done = parse_event(data)
                if done:
                    return
                if content:
                    yield content
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
