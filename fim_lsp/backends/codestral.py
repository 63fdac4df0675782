"""The Codestral FIM dialect: request body, streamed answer, error translation."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import (
    APIStatusError,
    AuthenticationError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
)
from .sse import SSEDecoder
from .stream import Delta, stream_deltas

FIM_PATH = "/v1/fim/completions"


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


def translate_error(response: httpx.Response, raw: bytes, host: str) -> APIStatusError:
    """Translate an error response (its body already read) into the exception tree."""
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


def parse_delta(data: str) -> Delta:
    """One SSE event of a Codestral stream as a delta (done at finish_reason or [DONE])."""
    content, finish, done = parse_event(data)
    return Delta(content, done or finish is not None)


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


def stream_fim(
    client: httpx.AsyncClient,
    http_request: httpx.Request,
    *,
    host: str,
    timeout: float,
    opened: Callable[[], None] | None = None,
    closed_early: Callable[[], None] | None = None,
) -> AsyncGenerator[str, None]:
    """Send one Codestral FIM request and yield the content deltas as they stream in."""
    return stream_deltas(
        client,
        http_request,
        host=host,
        timeout=timeout,
        framing=SSEDecoder,
        parse=parse_delta,
        translate_error=translate_error,
        opened=opened,
        closed_early=closed_early,
    )
