"""The completion pipeline: typing through, cache, debounce, context, streamed request, post-processing.

The engine knows nothing of LSP: it takes a document and a cursor and returns a suggestion. What it
has to tell the user goes through a `Reporter`, so the server and the `complete` command share it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from .backends import (
    APIConnectionError,
    AuthenticationError,
    BackendError,
    FimRequest,
    RateLimitError,
    RequestRejectedError,
    stream_fim,
)
from .cache import Shown, SuggestionCache, cache_key, type_through
from .context import FimContext, slice_context
from .documents import Document
from .postprocess import PostContext, Suggestion, postprocess, stream_done
from .scheduler import Scheduler, Superseded
from .settings import Settings, missing_key_message

log = logging.getLogger(__name__)

# Backoff after a 429 without Retry-After, doubling up to the cap.
_BACKOFF_FIRST = 1.0
_BACKOFF_CAP = 30.0


class Reporter(Protocol):
    """Where the engine's words for the user go."""

    def show_once(self, key: str, message: str, *, error: bool) -> None:
        """A pop-up, shown once per key until `reset` (settings changed)."""

    def log(self, message: str, *, error: bool) -> None:
        """A line in the client's log."""

    def status(self, state: str, message: str = "") -> None:
        """idle / fetching / error / off, for a status bar."""


@dataclass(frozen=True)
class Completion:
    """A suggestion placed in a document: insert `text` at (line, start), replacing up to `end`."""

    text: str
    line: int
    start: int
    end: int
    source: str  # "model", "cache" or "typed", for logs and the benchmark


def build_request(settings: Settings, ctx: FimContext) -> FimRequest:
    """The FIM request for a context under the current settings."""
    return FimRequest(
        model=settings.model,
        prompt=ctx.prompt,
        suffix=ctx.suffix,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        stop=settings.stop,
    )


async def fetch_suggestion(
    http: httpx.AsyncClient, settings: Settings, ctx: FimContext
) -> tuple[Suggestion | None, str]:
    """Stream one answer, closing the stream as soon as post-processing has what it needs.

    Returns the suggestion and the raw text that was read; raises BackendError subclasses.
    """
    post = PostContext(ctx.prompt, ctx.suffix, ctx.language_id)
    parts: list[str] = []
    stream = stream_fim(
        http,
        settings.base_url,
        settings.api_key,
        build_request(settings, ctx),
        host=settings.host,
        timeout=settings.timeout_ms / 1000,
    )
    try:
        async for delta in stream:
            parts.append(delta)
            if stream_done("".join(parts), post):
                break
    finally:
        await stream.aclose()
    raw = "".join(parts)
    return postprocess(raw, post), raw


class Engine:
    """Owns the HTTP client, the cache, the scheduler and the error policy."""

    def __init__(
        self,
        reporter: Reporter,
        *,
        http_factory: Callable[[], httpx.AsyncClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reporter = reporter
        self.settings = Settings()
        self.cache = SuggestionCache()
        self.scheduler = Scheduler()
        self._http: httpx.AsyncClient | None = None
        self._http_factory = http_factory or default_http_client
        self._clock = clock
        self._shown: dict[str, Shown] = {}
        self._blocked_until = 0.0
        self._backoff = _BACKOFF_FIRST
        self._auth_rejected: tuple[str, str] | None = None
        self.upstream_calls = 0

    # -- settings and lifecycle --------------------------------------------------------

    def configure(self, settings: Settings) -> None:
        """Take new settings; a changed key or endpoint lifts an authentication pause."""
        changed = (settings.base_url, settings.api_key) != (
            self.settings.base_url,
            self.settings.api_key,
        )
        if changed:
            self._auth_rejected = None
            self._blocked_until = 0.0
            self._backoff = _BACKOFF_FIRST
        self.settings = settings
        if not settings.api_key:
            self.reporter.show_once("no-key", missing_key_message(settings), error=False)
            self.reporter.status("off", "no API key")
        elif not settings.enable:
            self.reporter.status("off", "disabled")
        else:
            self.reporter.status("idle")

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client, made on first use inside the running event loop."""
        if self._http is None:
            self._http = self._http_factory()
        return self._http

    async def aclose(self) -> None:
        """Supersede every request and close the connection pool."""
        self.scheduler.supersede_all()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def forget(self, uri: str) -> None:
        """A document closed: drop its state."""
        self._shown.pop(uri, None)
        self.scheduler.forget(uri)

    # -- the pipeline ------------------------------------------------------------------

    async def complete(
        self, doc: Document, line: int, column: int, *, invoked: bool
    ) -> Completion | None:
        """The suggestion for a cursor, or None (nothing to say, superseded, or an error)."""
        settings = self.settings
        if not settings.language_enabled(doc.language_id) or not settings.api_key:
            return None
        line, index = doc.clamp(line, column)
        ctx = slice_context(
            doc.text_lines,
            line,
            index,
            settings.max_prefix_chars,
            settings.max_suffix_chars,
            doc.language_id,
            doc.uri,
        )
        # Typing through: the user typed what the suggestion on screen predicted.
        shown = self._shown.get(doc.uri)
        if shown is not None:
            rest = type_through(shown, ctx.prompt, ctx.suffix)
            if rest is not None:
                return self._place(doc.uri, ctx, rest, line, index, "typed")
        key = cache_key(settings, ctx.prompt, ctx.suffix)
        found, cached = self.cache.get(key)
        if found:
            return self._place(doc.uri, ctx, cached, line, index, "cache")
        if self._paused():
            return None

        ticket = self.scheduler.enter(doc.uri)
        version = doc.version
        try:
            await self.scheduler.debounce(ticket, 0 if invoked else settings.debounce_ms / 1000)
            if doc.version != version:
                # The text moved on and a newer request is on its way: this answer would be stale.
                return None
            self.reporter.status("fetching")
            self.upstream_calls += 1
            suggestion, _raw = await self.scheduler.run(
                ticket, fetch_suggestion(self.http, settings, ctx)
            )
        except Superseded:
            self.reporter.status("idle")
            return None
        except BackendError as err:
            self._on_error(err, settings)
            return None
        finally:
            self.scheduler.leave(ticket)
        self._backoff = _BACKOFF_FIRST
        self.reporter.status("idle")
        self.cache.put(key, suggestion)
        return self._place(doc.uri, ctx, suggestion, line, index, "model")

    def _place(
        self,
        uri: str,
        ctx: FimContext,
        suggestion: Suggestion | None,
        line: int,
        index: int,
        source: str,
    ) -> Completion | None:
        if suggestion is None:
            self._shown.pop(uri, None)
            return None
        self._shown[uri] = Shown(ctx.prompt, ctx.suffix, suggestion)
        return Completion(suggestion.text, line, index, index + suggestion.replace, source)

    # -- error policy ------------------------------------------------------------------

    def _paused(self) -> bool:
        settings = self.settings
        if self._auth_rejected == (settings.base_url, settings.api_key):
            return True
        return self._clock() < self._blocked_until

    def _on_error(self, err: BackendError, settings: Settings) -> None:
        if isinstance(err, AuthenticationError):
            self._auth_rejected = (settings.base_url, settings.api_key)
            hint = (
                " A Codestral key works only with https://codestral.mistral.ai and a La Plateforme "
                "(MISTRAL_API_KEY) key only with https://api.mistral.ai."
            )
            self.reporter.show_once(
                f"auth:{settings.base_url}",
                f"fim-lsp: {err.message}.{hint} Suggestions are paused until the key or endpoint "
                "setting changes.",
                error=True,
            )
            self.reporter.status("error", "API key rejected")
        elif isinstance(err, RateLimitError):
            wait = err.retry_after if err.retry_after is not None else self._backoff
            self._backoff = min(_BACKOFF_CAP, self._backoff * 2)
            self._blocked_until = self._clock() + wait
            self.reporter.log(f"fim-lsp: {err.message}; waiting {wait:g} s", error=False)
            self.reporter.status("error", f"rate limited for {wait:g} s")
        elif isinstance(err, RequestRejectedError):
            self.reporter.show_once(
                f"rejected:{err.message}", f"fim-lsp: {err.message}", error=True
            )
            self.reporter.status("error", err.message)
        else:
            kind = "connection" if isinstance(err, APIConnectionError) else "error"
            self.reporter.log(f"fim-lsp: {kind}: {err.message}", error=True)
            self.reporter.status("error", err.message)


def default_http_client() -> httpx.AsyncClient:
    """One pooled client for every request: keep-alive saves a TLS handshake per keystroke."""
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=120),
        headers={"User-Agent": "fim-lsp"},
        trust_env=True,
    )
