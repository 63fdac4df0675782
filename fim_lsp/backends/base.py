"""The seam between the engine and a model server: the `Backend` protocol and what dialects share.

A backend renders a request from a `FimContext` and the settings, streams the answer's text
through the shared runner (`stream_deltas`) with its own framing and parsing, translates error
answers into the error tree with a hint for the user, and checks the server's health.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from .errors import (
    APIStatusError,
    AuthenticationError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
)
from .limits import answer_chars
from .stream import Delta, Framing, stream_deltas

if TYPE_CHECKING:
    from ..context import FimContext
    from ..settings import Settings

# The longest pause a Retry-After may impose: beyond it, a server's word is not taken.
RETRY_AFTER_CAP = 60.0
# The most bytes a whole (not streamed) answer may take.
_WHOLE_BODY_LIMIT = 4 << 20

# What identifies a rendered request for the cache: a digest of its URL and body (16 bytes, so
# a cache entry costs the same whatever the size of the prompt it was asked for).
CacheKey = bytes


def _feed(digest: hashlib.blake2b, value: Any) -> None:
    """Add a JSON value to `digest`, each part tagged and sized, so that two values feed the
    same bytes exactly when they are equal (as the JSON sent would be)."""
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")  # an editor may send a lone surrogate
        digest.update(b"s%d:" % len(data))
        digest.update(data)
    elif isinstance(value, dict):
        digest.update(b"{%d:" % len(value))
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(b"[%d:" % len(value))
        for item in value:
            _feed(digest, item)
    else:  # numbers, booleans, None
        digest.update(b"%s%s;" % (type(value).__name__.encode(), repr(value).encode()))


@dataclass(frozen=True)
class Rendered:
    """A request as it will be sent: URL, JSON body, and stop strings cut on our side."""

    url: str
    body: dict[str, Any]
    stream: bool = True
    # Stop strings (a template's end tokens) that must never reach the user even if sent back.
    cut: tuple[str, ...] = ()

    @cached_property
    def key(self) -> CacheKey:
        """The cache key: a digest of exactly what is sent, so it cannot fall out of step with it.

        The body is fed to the digest as it is, not serialised: a cache hit costs no JSON encoding.
        """
        digest = hashlib.blake2b(digest_size=16)
        _feed(digest, self.url)
        _feed(digest, self.body)
        return digest.digest()

    @cached_property
    def content(self) -> bytes:
        """The body as sent (a lone surrogate, which UTF-8 cannot hold, goes as U+FFFD)."""
        text = json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode()
        except UnicodeEncodeError:
            # An editor's buffer may hold half of a pair (JSON allows "\ud800"); the model
            # server would refuse the body, so the half goes as the replacement character.
            whole = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return whole.encode()


@dataclass(frozen=True)
class Probe:
    """One line of `fim-lsp check`: ok or not, what was found, and whether later checks can go on."""

    ok: bool
    line: str
    fatal: bool = False


class Backend(Protocol):
    """One model server dialect."""

    name: str
    default_endpoint: str
    default_model: str

    def needs_key(self) -> bool:
        """Whether the server always wants an API key (local servers do not)."""

    def key_hosts(self) -> frozenset[str]:
        """Hosts the environment's keys are meant for."""

    def env_key(self, endpoint: str, env: Mapping[str, str]) -> tuple[str, str, str]:
        """(endpoint, key, variable): the endpoint to use and a key from the environment for it."""

    def missing_key_message(self, where: str) -> str:
        """What to tell a user who has set no key; `where`: how their editor takes one."""

    def render(self, ctx: FimContext, settings: Settings) -> Rendered:
        """The request for a context under the settings."""

    def http_request(
        self, client: httpx.AsyncClient, rendered: Rendered, settings: Settings
    ) -> httpx.Request:
        """The HTTP request of a rendered request, built ahead of time."""

    def stream(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        rendered: Rendered,
        settings: Settings,
        *,
        opened: Callable[[], None] | None = None,
        closed_early: Callable[[], None] | None = None,
    ) -> AsyncGenerator[str, None]:
        """Send the request; yield the answer's text as it arrives (stop strings cut)."""

    def translate_error(self, response: httpx.Response, raw: bytes, host: str) -> APIStatusError:
        """An error answer as an exception of the tree, with a hint for the user."""

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """Is the key accepted and the model there? One probe per finding."""

    async def touch(self, client: httpx.AsyncClient, settings: Settings) -> None:
        """Open a connection to the server (no model call), so the next request pays no handshake."""


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at 60 s."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(RETRY_AFTER_CAP, max(0.0, seconds))


def error_text(body: Any, fallback: str) -> str:
    """The server's own words from any of the error shapes in use."""
    if isinstance(body, dict):
        for name in ("message", "error", "detail"):
            value = body.get(name)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                inner = value.get("message")
                if isinstance(inner, str) and inner:
                    return inner
        detail = body.get("detail")
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


def loopback(host: str) -> bool:
    """Whether a URL host (no port) names this machine."""
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")


def join_url(base: str, path: str) -> str:
    """`base` (no trailing slash) + `path`."""
    return base.rstrip("/") + path


class WholeBody:
    """The framing of an answer that is not streamed: the whole body is one item."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[str]:
        """Keep the chunk; nothing is complete before the end."""
        self._size += len(chunk)
        if self._size > _WHOLE_BODY_LIMIT:
            raise StreamError(f"the answer is larger than {_WHOLE_BODY_LIMIT >> 20} MB")
        self._parts.append(chunk)
        return []

    def close(self) -> list[str]:
        """The body ended: it is the one item."""
        text = b"".join(self._parts).decode("utf-8", "replace")
        self._parts = []
        return [text] if text.strip() else []


def json_item(item: str) -> Any:
    """One framed item as JSON; a StreamError if it is not."""
    try:
        return json.loads(item)
    except ValueError as err:
        raise StreamError(f"malformed event in the model's stream: {item[:80]!r}") from err


class StopCutter:
    """Ends a streamed text at the first stop string, holding back what may be the start of one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._hold = max((len(s) for s in self._stops), default=1) - 1
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of `text` that can be shown now."""
        buf = self._pending + text
        cut = min((i for i in (buf.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return buf[:cut]
        keep = 0
        for n in range(min(self._hold, len(buf)), 0, -1):
            tail = buf[-n:]
            if any(s.startswith(tail) for s in self._stops):
                keep = n
                break
        self._pending = buf[len(buf) - keep :]
        return buf[: len(buf) - keep]

    def close(self) -> str:
        """The stream ended without a stop string: what was held back."""
        rest, self._pending = self._pending, ""
        return rest


class HttpBackend:
    """What every dialect shares: headers, the request, streamed or whole answers, error tree."""

    name: str = ""
    path: str = ""
    default_endpoint: str = ""
    # "": the server's own model (the field is not sent).
    default_model: str = ""

    def framer(self) -> Callable[[], Framing]:
        """How the streamed body splits into items (SSEDecoder, NDJSONDecoder)."""
        raise NotImplementedError

    def needs_key(self) -> bool:
        """Local servers want no key."""
        return False

    def key_hosts(self) -> frozenset[str]:
        """Hosts the environment's keys are meant for (none: keys come from the settings only)."""
        return frozenset()

    def env_key(self, endpoint: str, env: Mapping[str, str]) -> tuple[str, str, str]:
        """(endpoint, key, variable): the endpoint to use and a key from the environment for it."""
        return endpoint or self.default_endpoint, "", ""

    def missing_key_message(self, where: str) -> str:
        """What to say when a key is needed and missing."""
        return f"fim-lsp: no API key for the {self.name} backend: {where}."

    def url(self, settings: Settings) -> str:
        """Where the FIM request goes."""
        return join_url(settings.base_url, self.path)

    def body(self, ctx: FimContext, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The JSON body for a context, and the stop strings to cut on our side."""
        raise NotImplementedError

    def render(self, ctx: FimContext, settings: Settings) -> Rendered:
        """The request for a context under the settings."""
        body, cut = self.body(ctx, settings)
        return Rendered(self.url(settings), body, settings.stream, cut)

    def headers(self, settings: Settings) -> dict[str, str]:
        """Authorization when there is a key, then the user's own headers."""
        headers = {"Content-Type": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        headers.update(dict(settings.headers))
        return headers

    def http_request(
        self, client: httpx.AsyncClient, rendered: Rendered, settings: Settings
    ) -> httpx.Request:
        """The HTTP request of a rendered request, built ahead of time."""
        timeout = settings.timeout_ms / 1000
        headers = self.headers(settings)
        headers["Accept"] = "text/event-stream" if rendered.stream else "application/json"
        return client.build_request(
            "POST",
            rendered.url,
            headers=headers,
            content=rendered.content,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )

    def parse(self, item: str) -> Delta:
        """One streamed item as a delta."""
        raise NotImplementedError

    def parse_whole(self, item: str) -> Delta:
        """A whole (not streamed) answer as the one, final delta."""
        raise NotImplementedError

    def stream(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        rendered: Rendered,
        settings: Settings,
        *,
        opened: Callable[[], None] | None = None,
        closed_early: Callable[[], None] | None = None,
    ) -> AsyncGenerator[str, None]:
        """Send the request; yield the answer's text as it arrives (stop strings cut)."""
        inner = stream_deltas(
            client,
            request,
            host=settings.host,
            timeout=settings.timeout_ms / 1000,
            framing=self.framer() if rendered.stream else WholeBody,
            parse=self.parse if rendered.stream else self.parse_whole,
            translate_error=self.translate_error,
            opened=opened,
            closed_early=closed_early,
            max_chars=answer_chars(settings.max_tokens),
        )
        if not rendered.cut:
            return inner
        return _cut(inner, StopCutter(rendered.cut))

    def hint(self, status: int, message: str) -> str:
        """What the user can do about an error answer ("" when nothing to add)."""
        return ""

    def classify(self, status: int, message: str) -> type[APIStatusError]:
        """The class of an error answer."""
        if status in (401, 403):
            return AuthenticationError
        if status == 429:
            return RateLimitError
        if status in (400, 404, 422):
            return RequestRejectedError
        if status >= 500:
            return ServerError
        return APIStatusError

    def translate_error(self, response: httpx.Response, raw: bytes, host: str) -> APIStatusError:
        """Translate an error response (its body already read) into the exception tree."""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        status = response.status_code
        request_id = response.headers.get("x-request-id") or (
            body.get("request_id") if isinstance(body, dict) else None
        )
        if not isinstance(request_id, str):
            request_id = None
        message = error_text(body, response.reason_phrase or f"HTTP {status}")
        common: dict[str, Any] = {
            "status_code": status,
            "body": body,
            "request_id": request_id,
            "host": host,
            "hint": self.hint(status, message),
        }
        kind = self.classify(status, message)
        if kind is RateLimitError:
            return RateLimitError(
                f"{host} is rate limiting requests (429: {message})",
                retry_after=retry_after(response.headers.get("retry-after")),
                **common,
            )
        if issubclass(kind, AuthenticationError):
            return kind(f"{host} rejected the API key ({status}: {message})", **common)
        if issubclass(kind, RequestRejectedError):
            return kind(f"{host} refused the request ({status}: {message})", **common)
        if issubclass(kind, ServerError):
            return kind(f"{host} failed ({status}: {message})", **common)
        return kind(f"{host} answered {status}: {message}", **common)

    async def get_json(
        self, client: httpx.AsyncClient, url: str, settings: Settings
    ) -> tuple[int, Any]:
        """GET a JSON document with the request's headers: (status, body or None)."""
        headers = self.headers(settings)
        headers.pop("Content-Type", None)
        response = await client.get(
            url, headers=headers, timeout=min(10.0, settings.timeout_ms / 1000)
        )
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """By default: nothing to ask before the FIM call."""
        return []

    async def touch(self, client: httpx.AsyncClient, settings: Settings) -> None:
        """A HEAD of the server's root: any answer leaves a pooled connection."""
        try:
            response = await client.head(settings.base_url + "/", timeout=5.0)
            await response.aclose()
        except httpx.HTTPError:
            pass


async def _cut(inner: AsyncGenerator[str, None], cutter: StopCutter) -> AsyncGenerator[str, None]:
    """`inner`'s text up to the first stop string; stopping there closes the stream early."""
    try:
        async for text in inner:
            shown = cutter.feed(text)
            if shown:
                yield shown
            if cutter.stopped:
                return
        rest = cutter.close()
        if rest:
            yield rest
    finally:
        await inner.aclose()


def model_list_lines(
    names: list[str], model: str, where: str, matches: Callable[[str, str], bool] | None = None
) -> Probe:
    """A probe saying whether `model` is among the names a server listed."""
    same = matches or (lambda a, b: a == b)
    if any(same(name, model) for name in names):
        return Probe(True, f"model {model} is available at {where}")
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    return Probe(False, f"model {model} not found at {where}; it has: {shown or 'none'}", True)


def host_of(url: str) -> str:
    """The host (and port) of a URL, for messages: never the user info (`user:password@`)."""
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[2] if netloc else url
