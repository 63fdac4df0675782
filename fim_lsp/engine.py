"""The completion pipeline: typing through, cache, debounce, context, streamed request, post-processing.

The engine knows nothing of LSP: it takes a document and a cursor and returns a suggestion. What it
has to tell the user goes through a `Reporter`, so the server and the `complete` command share it.

One upstream stream ("flight") per document at most. A new request either extends the flight's
prompt with characters the stream produced (or may still produce) and waits for it, or ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from .backends import (
    APIConnectionError,
    AuthenticationError,
    BackendError,
    FimRequest,
    RateLimitError,
    RequestRejectedError,
    fim_http_request,
    h2reset,
    stream_fim,
)
from .cache import CacheKey, Shown, SuggestionCache, cache_key, type_through, typed_since
from .context import FimContext, slice_context
from .documents import Document
from .postprocess import Suggestion, postprocess, prepare, stream_done
from .scheduler import Rhythm, Scheduler, Superseded, Ticket, spot_at
from .settings import Settings, missing_key_message

log = logging.getLogger(__name__)

# Backoff after a 429 without Retry-After, doubling up to the cap.
_BACKOFF_FIRST = 1.0
_BACKOFF_CAP = 30.0
# How long a stream whose requests were all cancelled waits, unread, for a request to adopt it.
# VS Code cancels on each keystroke and asks again a few milliseconds later.
_ADOPT_GRACE = 0.2
# The most characters a user types ahead of a stream that is still worth waiting for.
_MAX_TYPED = 256
# Finished suggestions kept per document for typing through.
_RECENT = 4
# Warm the connection again after this much idle time.
_WARM_AFTER = 45.0


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
    debounce_ms: float = 0.0  # the wait applied before the model call, for the benchmark


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


def finish(raw: str, post: FimContext, *, naive: bool = False) -> Suggestion | None:
    """The suggestion made from a model's raw text (naive: as the model sent it)."""
    if naive:
        return Suggestion(raw) if raw.strip() else None
    return postprocess(raw, post)


def context_at(doc: Document, line: int, index: int, settings: Settings) -> FimContext:
    """The FIM context at a (line, code-point index) of a document, within the settings' budget."""
    return slice_context(
        doc.text_lines,
        line,
        index,
        settings.max_prefix_chars,
        settings.max_suffix_chars,
        doc.language_id,
        doc.uri,
        settings.multiline,
    )


@dataclass(eq=False)
class Flight:
    """One upstream stream and what it has produced so far."""

    uri: str
    key: CacheKey
    ctx: FimContext
    raw: str = ""  # the text streamed so far
    interest: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Suggestion | None] | None = None
    grace: asyncio.TimerHandle | None = None

    def typed_extension(self, ctx: FimContext) -> str | None:
        """The characters typed since this flight's prompt, if `ctx` continues it; else None."""
        if ctx.suffix != self.ctx.suffix:
            return None
        return typed_since(self.ctx.prompt, ctx.prompt, _MAX_TYPED)


def _agrees(typed: str, raw: str) -> bool:
    """Whether what the user typed and what the model streamed can still be the same text."""
    n = min(len(typed), len(raw))
    return typed[:n] == raw[:n]


class Engine:
    """Owns the HTTP client, the cache, the flights, the scheduler and the error policy."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.settings = Settings()
        self.cache = SuggestionCache()
        self.scheduler = Scheduler()
        self.rhythm = Rhythm()
        self._http: httpx.AsyncClient | None = None
        self._clock = time.monotonic
        self._recent: dict[str, deque[Shown]] = {}
        self._flights: dict[str, Flight] = {}
        self._blocked_until = 0.0
        self._backoff = _BACKOFF_FIRST
        self._auth_rejected: tuple[str, str] | None = None
        self._last_network = -_WARM_AFTER
        self._warming: asyncio.Future[None] | None = None
        self._closed = False
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
            self._last_network = -_WARM_AFTER
        self.settings = settings
        if not settings.api_key:
            self.reporter.show_once("no-key", missing_key_message(), error=False)
            self.reporter.status("off", "no API key")
        elif not settings.enable:
            self.reporter.status("off", "disabled")
        else:
            self.reporter.status("fetching" if self._flights else "idle")

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client, made on first use inside the running event loop."""
        if self._http is None:
            self._http = default_http_client()
        return self._http

    def warm(self, *, spare: bool = False) -> None:
        """Open (or refresh) a connection now, so the next suggestion pays no handshake.

        `spare`: a stream was stopped early, which closed its connection (HTTP/1.1); the next
        call, a debounce away, should find another one open.
        """
        settings = self.settings
        now = self._clock()
        if not settings.api_key or not settings.enable or self._closed:
            return
        if self._warming is not None and not self._warming.done():
            return
        if not spare and now - self._last_network < _WARM_AFTER:
            return
        self._last_network = now
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return

        async def touch() -> None:
            with contextlib.suppress(httpx.HTTPError):
                response = await self.http.head(settings.base_url + "/", timeout=5.0)
                await response.aclose()

        self._warming = asyncio.ensure_future(touch())

    async def aclose(self) -> None:
        """End every request and stream in flight and close the connection pool."""
        self._closed = True
        self.scheduler.supersede_all()
        for uri in list(self._flights):
            self._drop_flight(uri)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def on_edit(self, uri: str) -> None:
        """The user typed in a document (feeds the adaptive debounce)."""
        self.rhythm.keystroke(uri, self._clock())

    def forget(self, uri: str) -> None:
        """A document closed: drop its state."""
        self._recent.pop(uri, None)
        self.scheduler.forget(uri)
        self.rhythm.forget(uri)
        self._drop_flight(uri)

    # -- the pipeline ------------------------------------------------------------------

    async def complete(
        self, doc: Document, line: int, column: int, *, invoked: bool
    ) -> Completion | None:
        """The suggestion for a cursor, or None (nothing to say, superseded, or an error)."""
        settings = self.settings
        if not settings.language_enabled(doc.language_id) or not settings.api_key:
            return None
        line, index = doc.clamp(line, column)
        ctx = context_at(doc, line, index, settings)
        place = _Placer(line, index)
        key = cache_key(settings, ctx.prompt, ctx.suffix)
        if not settings.naive:
            # Typing through: the user typed what a finished suggestion predicted.
            for shown in self._recent.get(doc.uri, ()):
                rest = type_through(shown, ctx.prompt, ctx.suffix)
                if rest is not None:
                    return place(rest, "typed")
            found, cached = self.cache.get(key)
            if found:
                if cached is not None:
                    self._remember(doc.uri, Shown(ctx.prompt, ctx.suffix, cached))
                return place(cached, "cache")
        if self._paused():
            return None

        arrived = self._clock()
        ticket = self.scheduler.enter(doc.uri)
        version = doc.version
        try:
            flight = self._flights.get(doc.uri)
            if flight is not None and not settings.naive:
                typed = flight.typed_extension(ctx)
                if typed is not None and _agrees(typed, flight.raw):
                    diverged, result = await self._await_flight(ticket, flight, typed)
                    if not diverged:
                        return self._answer(result, ctx, flight, place)
                    log.info(
                        "the stream for %s went another way after %.0f ms",
                        doc.uri,
                        (self._clock() - arrived) * 1000,
                    )
            self._drop_flight(doc.uri)
            spot = spot_at(ctx.prompt, ctx.suffix)
            delay = self.rhythm.delay(
                fixed=settings.debounce_ms / 1000,
                low=settings.debounce_min_ms / 1000,
                high=settings.debounce_max_ms / 1000,
                adaptive=settings.adaptive_debounce and not settings.naive,
                spot=spot,
            )
            if invoked or settings.debounce_ms == 0:
                # Asked for explicitly, or the user wants no wait at all (adaptive or not).
                delay = 0.0
            # Built now, while the request is fresh in the caches; the debounce then ends in a send.
            request = fim_http_request(
                self.http,
                settings.base_url,
                settings.api_key,
                build_request(settings, ctx),
                timeout=settings.timeout_ms / 1000,
            )
            # The quiet time runs from the user's last edit when this request follows one, so the
            # server's own work on the edit and the request overlaps the wait instead of adding to
            # it; time spent on a stream that then went another way counts as waiting too.
            edited = self.rhythm.last_edit(doc.uri)
            origin = edited if edited is not None and 0 <= arrived - edited < delay else arrived
            await self.scheduler.debounce(ticket, max(0.0, delay - (self._clock() - origin)))
            if doc.version != version:
                # The text moved on and a newer request is on its way: this answer would be stale.
                return None
            flight = self._launch(doc.uri, key, ctx, settings, request)
            log.info(
                "model call %d for %s: debounce %.1f ms, waited %.0f ms, %s",
                self.upstream_calls,
                doc.uri,
                delay * 1000,
                (self._clock() - arrived) * 1000,
                spot.value,
            )
            log.debug("prompt tail %r, suffix head %r", ctx.prompt[-80:], ctx.suffix[:80])
            _diverged, result = await self._await_flight(ticket, flight, "")
            return self._answer(result, ctx, flight, place, delay)
        except Superseded:
            return None
        finally:
            self.scheduler.leave(ticket)

    def _answer(
        self,
        result: Suggestion | None,
        ctx: FimContext,
        flight: Flight,
        place: _Placer,
        debounce: float = 0.0,
    ) -> Completion | None:
        if result is None:
            return None
        if ctx.prompt == flight.ctx.prompt:
            return place(result, "model", debounce)
        rest = type_through(
            Shown(flight.ctx.prompt, flight.ctx.suffix, result), ctx.prompt, ctx.suffix
        )
        return place(rest, "model", debounce)

    def _launch(
        self,
        uri: str,
        key: CacheKey,
        ctx: FimContext,
        settings: Settings,
        request: httpx.Request,
    ) -> Flight:
        flight = Flight(uri, key, ctx)
        flight.task = asyncio.ensure_future(self._fly(flight, settings, request))
        self._flights[uri] = flight
        self.upstream_calls += 1
        self._last_network = self._clock()
        self.reporter.status("fetching")
        return flight

    async def _fly(
        self, flight: Flight, settings: Settings, request: httpx.Request
    ) -> Suggestion | None:
        """Run one stream to its end (or its early stop); cache and remember what it gave."""
        started = self._clock()
        stream = stream_fim(
            self.http,
            request,
            host=settings.host,
            timeout=settings.timeout_ms / 1000,
            opened=lambda: prepare(flight.ctx),
            closed_early=lambda: self.warm(spare=True),
        )
        try:
            async for delta in stream:
                if not flight.raw:
                    self.rhythm.model_latency(self._clock() - started)
                flight.raw += delta
                flight.progress.set()
                if not settings.naive and stream_done(flight.raw, flight.ctx):
                    break
                if flight.interest == 0:
                    # Nobody waits for it: read no more until a request adopts it or time is up.
                    await flight.wanted.wait()
        except BackendError as err:
            self._on_error(err, settings)
            return None
        finally:
            await stream.aclose()
            if self._flights.get(flight.uri) is flight:
                del self._flights[flight.uri]
            flight.progress.set()
        suggestion = finish(flight.raw, flight.ctx, naive=settings.naive)
        self._backoff = _BACKOFF_FIRST
        self.reporter.status("idle")
        if not settings.naive:
            self.cache.put(flight.key, suggestion)
            if suggestion is not None:
                self._remember(flight.uri, Shown(flight.ctx.prompt, flight.ctx.suffix, suggestion))
        return suggestion

    async def _await_flight(
        self, ticket: Ticket, flight: Flight, typed: str
    ) -> tuple[bool, Suggestion | None]:
        """Wait for the flight's answer while it agrees with what the user typed.

        Returns (diverged, suggestion): diverged when the stream and the typing parted.
        Raises Superseded when a newer request for the document arrives.
        """
        assert flight.task is not None
        flight.interest += 1
        flight.wanted.set()
        if flight.grace is not None:
            flight.grace.cancel()
            flight.grace = None
        superseded = asyncio.ensure_future(ticket.superseded.wait())
        try:
            while not flight.task.done():
                if typed and not _agrees(typed, flight.raw):
                    return True, None
                flight.progress.clear()
                progress = asyncio.ensure_future(flight.progress.wait())
                try:
                    await asyncio.wait(
                        {flight.task, progress, superseded}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    progress.cancel()
                if ticket.is_superseded:
                    raise Superseded
            if flight.task.cancelled():
                raise Superseded
            if typed and not _agrees(typed, flight.raw):
                return True, None
            return False, flight.task.result()
        finally:
            superseded.cancel()
            flight.interest -= 1
            if flight.interest == 0 and not flight.task.done():
                flight.wanted.clear()
                loop = asyncio.get_running_loop()
                flight.grace = loop.call_later(_ADOPT_GRACE, self._expire, flight)

    def _expire(self, flight: Flight) -> None:
        if flight.interest == 0:
            self._cancel(flight)

    def _drop_flight(self, uri: str) -> None:
        flight = self._flights.pop(uri, None)
        if flight is not None:
            self._cancel(flight)

    @staticmethod
    def _cancel(flight: Flight) -> None:
        if flight.grace is not None:
            flight.grace.cancel()
        if flight.task is not None and not flight.task.done():
            flight.task.cancel()

    def _remember(self, uri: str, shown: Shown) -> None:
        recent = self._recent.setdefault(uri, deque(maxlen=_RECENT))
        if not recent or recent[0] != shown:
            recent.appendleft(shown)

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


@dataclass(frozen=True)
class _Placer:
    """Turns a suggestion into a Completion at the request's cursor."""

    line: int
    index: int

    def __call__(
        self, suggestion: Suggestion | None, source: str, debounce: float = 0.0
    ) -> Completion | None:
        if suggestion is None:
            return None
        end = self.index + suggestion.replace
        return Completion(suggestion.text, self.line, self.index, end, source, debounce * 1000)


def default_http_client() -> httpx.AsyncClient:
    """One pooled client for every request: keep-alive saves handshakes.

    HTTP/2 where the endpoint offers it (ALPN), with streams closed early reset (`h2reset`), so
    stopping a suggestion keeps the connection; else HTTP/1.1 keep-alive, where stopping a
    stream closes its connection and a spare one is opened.
    """
    return httpx.AsyncClient(
        http2=h2reset.install(),
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=120),
        headers={"User-Agent": "fim-lsp"},
        trust_env=True,
    )
