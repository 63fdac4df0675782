"""The completion pipeline: typing through, cache, debounce, context, streamed request, post-processing.

The engine knows nothing of LSP nor of any model server's dialect: it takes a document and a
cursor and returns a suggestion; the backend renders and streams the request. What it has to
tell the user goes through a `Reporter`, so the server and the `complete` command share it.
The flights (`flights.py`), the error gate (`gate.py`) and the typing-through memory
(`cache.Recent`) are its parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx

from .backends import APITimeoutError, Backend, BackendError, Rendered, backend_for
from .backends.client import make_client
from .backends.other_files import display_path, header_cost
from .cache import Recent, Shown, SuggestionCache, type_through
from .client_hints import key_setting
from .context import FimContext, is_word_char, slice_context
from .documents import Document, line_body
from .exclusion import Excluder
from .flights import Flight, Flights, FlightTimedOut, agrees
from .gate import ErrorGate
from .postprocess import Suggestion, answer_ended, postprocess, prepare, stream_done
from .related import RelatedCode, Snippet
from .scheduler import Rhythm, Scheduler, Spot, Superseded, Ticket, spot_at
from .secrets import contains_placeholder, mask, mask_split
from .settings import Settings

log = logging.getLogger(__name__)

# Warm the connection again after this much idle time.
_WARM_AFTER = 45.0
# Documents whose last answer is remembered, to see an edit that inserts it (an accept).
_ANSWERS = 32

K = TypeVar("K")
V = TypeVar("V")


def _put_newest(mapping: dict[K, V], key: K, value: V) -> None:
    """Store `value` as the newest entry, dropping the oldest past _ANSWERS documents."""
    mapping.pop(key, None)
    mapping[key] = value
    if len(mapping) > _ANSWERS:
        del mapping[next(iter(mapping))]


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


def finish(raw: str, post: FimContext, *, naive: bool = False) -> Suggestion | None:
    """The suggestion made from a model's raw text (naive: as the model sent it).

    None when it would show a masked secret's placeholder: the model only echoed what it saw.
    """
    suggestion = (Suggestion(raw) if raw.strip() else None) if naive else postprocess(raw, post)
    if suggestion is not None and contains_placeholder(suggestion.text):
        return None
    return suggestion


@dataclass(frozen=True)
class _Answer:
    """The last suggestion given for a document, at which version, and the line after it."""

    completion: Completion
    version: int
    tail: str  # the line's text after the replaced range, when the answer was given


def inserted_at(
    doc: Document, completion: Completion, tail: str | None, inserted: int | None = None
) -> tuple[int, int] | None:
    """The (line, index) just after `completion` when `doc` holds it inserted; else None.

    `tail`: what followed the replaced range on the line, which must follow the inserted text;
    `inserted`: how many characters the edit inserted, when known (a paste that starts with the
    suggestion inserts more, and leaves the cursor past it).
    """
    text = completion.text.replace("\r\n", "\n")
    breaks = text.count("\n")
    if inserted is not None and inserted > len(text) + breaks:  # each break may come as \r\n
        return None
    last = completion.line + breaks
    if last >= len(doc.text_lines):
        return None
    joined = "".join(doc.text_lines[completion.line : last + 1]).replace("\r\n", "\n")
    start = completion.start
    if joined[start : start + len(text)] != text:
        return None
    if tail is not None and line_body(joined[start + len(text) :]) != tail:
        return None
    index = len(text) - text.rfind("\n") - 1 if breaks else start + len(text)
    return last, index


def with_inserted(doc: Document, completion: Completion) -> tuple[Document, int, int] | None:
    """A copy of `doc` with `completion` applied, and the (line, index) just after it.

    The copy is of the line list (a pointer per line), not of the text.
    """
    after = Document(doc.uri, list(doc.text_lines), doc.version, doc.language_id, doc.encoding)
    line = completion.line
    start, end = doc.column(line, completion.start), doc.column(line, completion.end)
    after.apply_edit((line, start), (line, end), completion.text, doc.version)
    at = inserted_at(after, completion, None)
    return None if at is None else (after, *at)


def context_at(
    doc: Document, line: int, index: int, settings: Settings, roots: tuple[str, ...] = ()
) -> FimContext:
    """The FIM context at a (line, code-point index) of a document, within the settings' budget.

    Secrets in the window are masked (setting `redactSecrets`).
    """
    ctx = slice_context(
        doc.text_lines,
        line,
        index,
        settings.max_prefix_chars,
        settings.max_suffix_chars,
        doc.language_id,
        display_path(doc.uri, roots),
        settings.multiline,
    )
    if not settings.redact_secrets:
        return ctx
    prompt, suffix = mask_split(ctx.prompt, ctx.suffix)
    if prompt is ctx.prompt and suffix is ctx.suffix:
        return ctx
    return dataclasses.replace(ctx, prompt=prompt, suffix=suffix)


class Engine:
    """Owns the HTTP client, the cache, the flights, the scheduler and the error gate."""

    def __init__(
        self,
        reporter: Reporter,
        *,
        clock: Callable[[], float] = time.monotonic,
        backends: Callable[[str], Backend] = backend_for,
    ) -> None:
        self.reporter = _LastStatus(reporter)
        self.settings = Settings()
        self._backends = backends
        self.backend = backends(self.settings.backend)
        self.cache = SuggestionCache()
        self.recent = Recent()
        self.scheduler = Scheduler()
        self.rhythm = Rhythm()
        self.flights = Flights()
        self._clock = clock
        self.gate = ErrorGate(self.reporter, clock)
        self._http: httpx.AsyncClient | None = None
        self._last_network = -_WARM_AFTER
        self._warming: asyncio.Future[None] | None = None
        self._closed = False
        self.upstream_calls = 0
        self.excluder = Excluder()
        # The workspace folders (from `initialize`): paths shown to the model, `.fimignore`.
        self.roots: tuple[str, ...] = ()
        self.related = RelatedCode(allowed=self._readable)
        self._off_for_file = False
        # The editor's name from `initialize` (clientInfo), for words that name its settings.
        self.client_name: str | None = None
        self._answers: dict[str, _Answer] = {}
        # Per document, the line (number, text) a suggestion typed through was last asked
        # ahead for: one call per suggestion, not one per key.
        self._ahead: dict[str, tuple[int, str]] = {}
        self.speculations = 0
        # Told (uri, document version) when a suggestion shown by its first line has its whole
        # block: an editor that asks again at the same place gets it from memory, no call.
        self.block_ready: Callable[[str, int], None] | None = None

    # -- settings and lifecycle --------------------------------------------------------

    def configure(self, settings: Settings) -> None:
        """Take new settings; any change lifts a pause (a rejected key, a rate limit)."""
        previous = self.settings
        if settings == previous and self.reporter.last is not None:
            # The same settings again (pulled after `initialized`): what was said still holds.
            self.reporter.status(*self.reporter.last)
            return
        self.gate.lift()
        # What a stream said was said for the old settings (another model, another endpoint).
        self.flights.drop_all()
        self._last_network = -_WARM_AFTER
        if settings.ca_bundle != previous.ca_bundle and self._http is not None:
            old, self._http = self._http, None
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().create_task(old.aclose())
        self.settings = settings
        self.backend = self._backends(settings.backend)
        if not self.has_key():
            message = self.backend.missing_key_message(key_setting(self.client_name))
            self.reporter.show_once("no-key", message, error=False)
            self.reporter.status("off", "no API key")
        elif not settings.enable:
            self.reporter.status("off", "disabled")
        else:
            self.reporter.status("fetching" if self.flights else "idle")

    def has_key(self) -> bool:
        """Whether the settings hold a key, or the backend needs none."""
        return bool(self.settings.api_key) or not self.backend.needs_key()

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client, made on first use inside the running event loop."""
        if self._http is None:
            self._http = make_client(self.settings.ca_bundle)
        return self._http

    def warm(self, *, spare: bool = False) -> None:
        """Open (or refresh) a connection now, so the next suggestion pays no handshake.

        `spare`: a stream was stopped early, which closed its connection (HTTP/1.1); the next
        call, a debounce away, should find another one open.
        """
        settings = self.settings
        now = self._clock()
        if not self.has_key() or not settings.enable or self._closed:
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
        self._warming = asyncio.ensure_future(self.backend.touch(self.http, settings))

    async def aclose(self) -> None:
        """End every request and stream in flight and close the connection pool."""
        self._closed = True
        self.scheduler.supersede_all()
        self.flights.drop_all()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def opened(self, doc: Document) -> None:
        """A document opened: it may lend context to the others."""
        self.related.watch(doc)

    def on_edit(
        self,
        doc: Document,
        line: int,
        deleted_at: tuple[int, int] | None = None,
        *,
        inserted: int | None = None,
    ) -> None:
        """The user typed in a document at `line` (feeds the debounce and the context).

        `deleted_at`: the (line, column) where the edit was a deletion, if it was one;
        `inserted`: how many characters the edit inserted, when known.
        """
        self.rhythm.keystroke(doc.uri, self._clock())
        self.related.watch(doc)
        self.related.touched(doc.uri, line)
        answer = self._answers.pop(doc.uri, None)
        speculate = self.settings.speculate_after_accept
        if answer is not None and doc.version != answer.version and speculate:
            # The first edit after an answer: when it inserts exactly the suggestion, it was taken.
            at = inserted_at(doc, answer.completion, answer.tail, inserted)
            if at is not None:
                self._speculate(doc, *at)
        if deleted_at is not None:
            self._cleared(doc, *deleted_at)

    def _cleared(self, doc: Document, line: int, column: int) -> None:
        """A deletion that leaves its line blank up to the cursor (a line's text cut, `cc` in
        Vim): the user is about to write the line anew, and a line's start is where the call
        starts at once when working ahead. No request comes until the first key, so ask now."""
        if not self._working_ahead():
            return
        line, index = doc.clamp(line, column)
        body = doc.line(line)
        if index != len(body) or body.strip() or len(doc.text_lines) < 2:
            return  # text stays on the line, or the whole document was cleared
        self._speculate(doc, line, index, why="at a line a deletion cleared")

    def accepted(self, doc: Document, completion: Completion, length: int | None = None) -> None:
        """The user accepted `completion` (its first `length` characters): ask what follows.

        The editor asks again right after the edit; the call starts now, as if the accepted text
        had been typed, so that request is answered from this flight or the cache. A partial
        accept leaves the rest on screen, which typing through already answers.
        """
        if length is not None and length < len(completion.text):
            return
        if not self.settings.speculate_after_accept:
            return
        at = inserted_at(doc, completion, None)
        answer = self._answers.get(doc.uri)
        if at is None and answer is not None and answer.completion == completion:
            if doc.version != answer.version:
                return  # the document moved on some other way
            # The accept came before the edit: speculate on the text as it will be.
            after = with_inserted(doc, completion)
            if after is not None:
                self._speculate(*after)
        elif at is not None:
            self._speculate(doc, *at)

    def _typing_through(self, doc: Document, completion: Completion) -> None:
        """The user types a suggestion through: ask now, once per suggestion, for what follows
        it, as if it were accepted, so a pause at its end (or an accept) finds the next line."""
        if not self.settings.speculate_after_accept:
            return
        if self.flights.get(doc.uri) is not None:
            return  # a stream in the air may still say what follows
        line = completion.line
        target = (line, doc.line(line)[: completion.start] + completion.text)
        if self._ahead.get(doc.uri) == target or not self._may_speculate(doc):
            return
        # Marked before the copy: the document is copied once per suggestion, not per key.
        _put_newest(self._ahead, doc.uri, target)
        after = with_inserted(doc, completion)
        if after is not None:
            self._speculate(*after, why="ahead of a suggestion's end")

    def _may_speculate(self, doc: Document) -> bool:
        """Whether a call may be made ahead of a request for this document now (the setting
        that asks for each kind of call ahead is its caller's to check)."""
        settings = self.settings
        if settings.naive or not settings.enable:
            return False
        if not settings.language_enabled(doc.language_id) or not self.has_key():
            return False
        if self._closed or not self._readable(doc.uri) or self.gate.paused():
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def _speculate(
        self, doc: Document, line: int, index: int, *, why: str = "after an accept"
    ) -> None:
        """Start the model call for the cursor at (line, index) now, unless it is answered."""
        settings, backend = self.settings, self.backend
        if not self._may_speculate(doc):
            return
        ctx = context_at(doc, line, index, settings, self.roots)
        if self.recent.typed_through(doc.uri, ctx.prompt, ctx.suffix) is not None:
            return
        if _covers(self.flights.latest(doc.uri), ctx):
            return
        ctx = self._with_other_files(doc, line, ctx)
        rendered = backend.render(ctx, settings)
        found, _cached = self.cache.get(rendered.key)
        if found:
            return
        self.flights.drop(doc.uri)
        request = backend.http_request(self.http, rendered, settings)
        self._launch(doc.uri, ctx, settings, backend, rendered, request, eager=True)
        self.speculations += 1
        log.info("model call %d for %s: debounce 0.0 ms, %s", self.upstream_calls, doc.uri, why)
        waiting = self.scheduler.current(doc.uri)
        if waiting is not None:
            # A request in its debounce adopts the new flight now instead of calling itself.
            waiting.wake()

    def forget(self, uri: str) -> None:
        """A document closed: drop its state."""
        self.excluder.forget(uri)
        self.related.forget(uri)
        self.recent.forget(uri)
        self.scheduler.forget(uri)
        self.rhythm.forget(uri)
        self.flights.drop(uri)
        self._answers.pop(uri, None)
        self._ahead.pop(uri, None)

    # -- the pipeline ------------------------------------------------------------------

    async def complete(
        self, doc: Document, line: int, column: int, *, invoked: bool, ghost: bool = True
    ) -> Completion | None:
        """The suggestion for a cursor, or None (nothing to say, superseded, or an error).

        `ghost`: the answer is ghost text, which may be a first line still streaming (setting
        `partialFirstLine`); a completion list's item is never one.
        """
        version = doc.version
        completion = await self._complete(doc, line, column, invoked=invoked, ghost=ghost)
        if completion is not None and doc.version == version:
            tail = doc.line(completion.line)[completion.end :]
            _put_newest(self._answers, doc.uri, _Answer(completion, version, tail))
        return completion

    async def _complete(
        self, doc: Document, line: int, column: int, *, invoked: bool, ghost: bool
    ) -> Completion | None:
        settings, backend = self.settings, self.backend
        if not settings.language_enabled(doc.language_id) or not self.has_key():
            return None
        if not self._file_allowed(doc.uri):
            return None
        line, index = doc.clamp(line, column)
        ctx = context_at(doc, line, index, settings, self.roots)
        place = _Placer(line, index)
        if not settings.naive:
            typed = self.recent.typed_through(doc.uri, ctx.prompt, ctx.suffix)
            if typed is not None:
                completion = place(typed, "typed")
                if completion is not None:
                    self._typing_through(doc, completion)
                return completion
        ctx = self._with_other_files(doc, line, ctx)
        rendered = backend.render(ctx, settings)
        if not settings.naive:
            found, cached = self.cache.get(rendered.key)
            if found:
                if cached is not None:
                    self.recent.remember(doc.uri, Shown(ctx.prompt, ctx.suffix, cached))
                return place(cached, "cache")
        if self.gate.paused():
            return None

        arrived = self._clock()
        ticket = self.scheduler.enter(doc.uri)
        version = doc.version
        asked = _Asked(ticket, arrived, version, ghost)
        try:
            # A stream already in the air for this document (typed ahead, or after an accept).
            adopted = await self._adopt(asked, doc.uri, ctx)
            if adopted is not None:
                return place(adopted[1], "model")
            parted = _parted(self.flights.latest(doc.uri), ctx)
            self.flights.drop(doc.uri)
            spot = spot_at(ctx.prompt, ctx.suffix)
            delay = self._delay(spot, invoked, parted=parted)
            # Built now, while the request is fresh in the caches; the debounce then ends in a send.
            request = backend.http_request(self.http, rendered, settings)
            await self._quiet(ticket, doc.uri, arrived, delay)
            if doc.version != version:
                # The text moved on and a newer request is on its way: this answer would be stale.
                return None
            if self.flights.get(doc.uri) is not None:
                # A flight started during the debounce (an accept): adopt it if it fits.
                adopted = await self._adopt(asked, doc.uri, ctx)
                if adopted is not None:
                    return place(adopted[1], "model")
                self.flights.drop(doc.uri)
            flight = self._launch(doc.uri, ctx, settings, backend, rendered, request)
            log.info(
                "model call %d for %s: debounce %.1f ms, waited %.0f ms, %s%s",
                self.upstream_calls,
                doc.uri,
                delay * 1000,
                (self._clock() - arrived) * 1000,
                spot.value,
                ", replacing a stream the typing parted from" if parted else "",
            )
            log.debug("prompt tail %r, suffix head %r", ctx.prompt[-80:], ctx.suffix[:80])
            _diverged, result = await self._follow(asked, flight, ctx, "")
            return place(result, "model", delay)
        except Superseded:
            return None
        finally:
            self.scheduler.leave(ticket)

    def _readable(self, uri: str) -> bool:
        """Whether a document may be read for suggestions and context (not a secret file)."""
        return self.excluder.check(uri, self.roots, self.settings.exclude) is None

    def _file_allowed(self, uri: str) -> bool:
        """False for an excluded file, whose status then says why suggestions are off."""
        excluded = self.excluder.check(uri, self.roots, self.settings.exclude)
        if excluded is not None:
            self._off_for_file = True
            self.reporter.status("off", excluded.status)
            return False
        if self._off_for_file:
            self._off_for_file = False
            self.reporter.status("fetching" if self.flights else "idle")
        return True

    def _with_other_files(self, doc: Document, line: int, ctx: FimContext) -> FimContext:
        """The context with code from other open files (setting `contextChars`)."""
        settings = self.settings
        self.related.touched(doc.uri, line)
        if settings.context_chars <= 0 or settings.naive:
            return ctx
        language = ctx.language_id
        chosen = self.related.select(
            doc,
            line,
            ctx.prompt,
            ctx.suffix,
            settings.context_chars,
            header_cost=lambda s: header_cost(display_path(s.uri, self.roots), language),
        )
        if not chosen:
            return ctx
        extra = tuple(self._outgoing(s) for s in chosen)
        repo = display_path(self.roots[0]) if self.roots else ""
        return dataclasses.replace(ctx, extra=extra, repo=repo)

    def _outgoing(self, snippet: Snippet) -> Snippet:
        """A chosen snippet as it is sent: its path relative to the workspace, secrets masked."""
        text = mask(snippet.text) if self.settings.redact_secrets else snippet.text
        return dataclasses.replace(snippet, path=display_path(snippet.uri, self.roots), text=text)

    async def _adopt(
        self, asked: _Asked, uri: str, ctx: FimContext
    ) -> tuple[Flight, Suggestion | None] | None:
        """The document's flight and its answer when the typing agrees with it; else None."""
        flight = self.flights.latest(uri)
        if flight is None or self.settings.naive:
            return None
        typed = flight.typed_extension(ctx)
        if typed is None or not agrees(typed, flight.raw):
            return None
        diverged, result = await self._follow(asked, flight, ctx, typed)
        if diverged:
            log.info(
                "the stream for %s went another way after %.0f ms",
                uri,
                (self._clock() - asked.arrived) * 1000,
            )
            return None
        exhausted = bool(typed) and not _says_more(flight, typed)
        if result is None and exhausted and not flight.failed and not self.gate.paused():
            # The user typed all the stream had to say: only a new call knows what comes next.
            return None
        return flight, result

    def _delay(self, spot: Spot, invoked: bool, *, parted: bool = False) -> float:
        """The quiet time before a model call (none when asked explicitly).

        `parted`: the call replaces a stream, still short of its answer, that the typing went
        another way from.
        """
        settings = self.settings
        if invoked or settings.debounce_ms == 0:
            # Asked for explicitly, or the user wants no wait at all (adaptive or not).
            return 0.0
        adaptive = settings.adaptive_debounce and not settings.naive
        if self._working_ahead() and (spot.pause_likely or parted):
            # Work ahead of the pause: the stream starts now and later keys that agree with it
            # adopt it, so a pause here or a few keys on finds its answer already arriving. A
            # stream found wrong (its first words part from the typing) is replaced at once,
            # not at the next such spot: it was working ahead, and a pause may come first.
            return 0.0
        return self.rhythm.delay(
            fixed=settings.debounce_ms / 1000,
            low=settings.debounce_min_ms / 1000,
            high=settings.debounce_max_ms / 1000,
            adaptive=adaptive,
            spot=spot,
        )

    def _working_ahead(self) -> bool:
        """Whether calls start at once where a pause is likely (`workAhead`, adaptive debounce)."""
        settings = self.settings
        return settings.work_ahead and settings.adaptive_debounce and not settings.naive

    async def _quiet(self, ticket: Ticket, uri: str, arrived: float, delay: float) -> None:
        """Wait out the debounce.

        The quiet time runs from the user's last edit when this request follows one, so the
        server's own work on the edit and the request overlaps the wait instead of adding to
        it; time spent on a stream that then went another way counts as waiting too.
        """
        edited = self.rhythm.last_edit(uri)
        origin = edited if edited is not None and 0 <= arrived - edited < delay else arrived
        await self.scheduler.debounce(ticket, max(0.0, delay - (self._clock() - origin)))

    async def _follow(
        self, asked: _Asked, flight: Flight, ctx: FimContext, typed: str
    ) -> tuple[bool, Suggestion | None]:
        """Wait for a flight's answer at the request's cursor, `typed` past the flight's.

        Returns (diverged, suggestion).

        Past the first-line budget (setting `firstLineMs`, from the request's arrival or the
        start of the call it joined) a complete first line is answer enough, and for ghost text
        the whole words of one still streaming (`partialFirstLine`, once the model has written
        for `WORDS_HOLD`): it is shown, and the flight reads on for the cache, typing through
        and the editor's next ask. A hung stream is told as a timeout, never waited past.
        """
        settings, version = self.settings, asked.version
        # What may be shown before the whole answer: its first line, and its first words.
        line = settings.early_first_line and not settings.naive and ctx.multiline != "never"
        words = line and asked.ghost and settings.partial_first_line
        # The budget runs from the request or the call it joined, whichever came first: a call
        # made ahead of the pause has spent part of it already. Asked again at a version already
        # shown a first line (fimLsp/blockReady), there is none.
        now = asyncio.get_running_loop().time()
        began = min(now - (self._clock() - asked.arrived), flight.started)
        again = version in (flight.shown_early, flight.shown_past)
        ready_at = now if again else began + settings.first_line_ms / 1000
        said: Suggestion | _Pending | None = _PENDING

        def known() -> bool:
            nonlocal said
            said = _said_at(flight, ctx, typed)
            return said is not _PENDING

        def ready(text: str) -> float | None:
            if line and first_line_end(text) is not None:
                return ready_at
            if words and partial_line(text) is not None:
                # The model has just begun: the line may be a moment away, and is better shown
                # whole than as words the line replaces at once.
                return max(ready_at, (flight.first_token or now) + WORDS_HOLD)
            return None

        try:
            while True:
                outcome = await self.flights.wait(
                    asked.ticket, flight, typed, known=known, ready=ready, ready_at=ready_at
                )
                if not outcome.early:
                    break
                shown = self._first_line(flight, ctx, typed, version)
                if shown is not None:
                    if flight.settled:
                        flight.shown_past = version
                    else:
                        flight.shown_early = version
                    return False, shown
                # Nothing worth showing in it: a complete first line next, else the answer.
                if first_line_end(flight.raw[len(typed) :]) is None:
                    words = False
                else:
                    line = words = False
        except FlightTimedOut:
            timeout = settings.timeout_ms / 1000
            self.gate.failed(
                APITimeoutError(f"{settings.host} did not finish within {timeout:g} s"),
                settings.host,
            )
            return False, None
        if outcome.diverged:
            return True, None
        if said is _PENDING:
            # The stream ended between two looks.
            said = _said_at(flight, ctx, typed)
        assert not isinstance(said, _Pending)
        if typed and said is not None:
            # Typed through from here on (a first line shown early is remembered, or not, by
            # _first_line; the flight's own answer by _settle).
            self.recent.remember(flight.uri, Shown(ctx.prompt, ctx.suffix, said))
        return False, said

    def _first_line(
        self, flight: Flight, ctx: FimContext, typed: str, version: int
    ) -> Suggestion | None:
        """The first line the flight streamed past `typed` as a one-line suggestion: the whole
        line when it is complete, else its whole words so far (the editor is told when the line
        is complete). The flight then reads on to its end with nobody waiting.
        """
        text = flight.raw[len(typed) :]
        end = first_line_end(text)
        cut = text[:end] if end is not None else partial_line(text)
        if cut is None:
            return None
        line = finish(cut, dataclasses.replace(ctx, multiline="never"))
        if line is None:
            return None
        self.flights.keep(flight)
        if end is None:
            # Not remembered for typing through: the stream has more words by the next key,
            # and the next request takes them from it.
            flight.partial = (version, len(typed))
            log.info(
                "answered with a first line's first words; the stream for %s reads on", flight.uri
            )
        else:
            self.recent.remember(flight.uri, Shown(ctx.prompt, ctx.suffix, line))
            log.info("answered with the first line; the stream for %s reads on", flight.uri)
        return line

    def _line_grown(self, flight: Flight, *, ended: bool = False) -> None:
        """A first line was shown still streaming: once it is complete (or the stream has said
        all it will), tell the editor to ask again for it."""
        assert flight.partial is not None
        version, typed = flight.partial
        if not ended and first_line_end(flight.raw[typed:]) is None:
            return
        flight.partial = None
        if self.block_ready is not None:
            self.block_ready(flight.uri, version)

    def _launch(
        self,
        uri: str,
        ctx: FimContext,
        settings: Settings,
        backend: Backend,
        rendered: Rendered,
        request: httpx.Request,
        *,
        eager: bool = False,
    ) -> Flight:
        flight = self.flights.launch(
            uri,
            rendered.key,
            ctx,
            settings.timeout_ms / 1000,
            lambda f: self._fly(f, settings, backend, rendered, request),
            eager=eager,
        )
        self.upstream_calls += 1
        self._last_network = self._clock()
        if not eager:
            # A call made ahead of a request (after an accept) keeps nobody waiting.
            self.reporter.status("fetching")
        return flight

    async def _fly(
        self,
        flight: Flight,
        settings: Settings,
        backend: Backend,
        rendered: Rendered,
        request: httpx.Request,
    ) -> Suggestion | None:
        """Run one stream: settle its answer at the early stop, then read on a few lines
        (setting `readOnLines`) for a cursor typed past it; cache and remember the answer."""
        started = self._clock()
        stream = backend.stream(
            self.http,
            request,
            rendered,
            settings,
            opened=lambda: prepare(flight.ctx),
            closed_early=lambda: self.warm(spare=True),
        )
        read_on = settings.read_on_lines
        settled_at = 0  # how much text had streamed when the answer was settled
        try:
            async for delta in stream:
                if not flight.raw:
                    self.rhythm.model_latency(self._clock() - started)
                flight.streamed(delta)
                if flight.partial is not None and "\n" in delta:
                    self._line_grown(flight)
                if settings.naive:
                    pass  # the baseline reads the whole answer
                elif not flight.settled:
                    if stream_done(flight.raw, flight.ctx):
                        self._settle(flight, settings)
                        settled_at = len(flight.raw)
                        if not read_on or answer_ended(flight.raw, flight.ctx):
                            break
                elif "\n" in delta and _lines_after(flight.raw, settled_at) >= read_on:
                    # Counted only when a line ends, so the text read on is not rescanned per delta.
                    break
                if flight.interest == 0 and not flight.eager and not flight.settled:
                    # Nobody waits for it: read no more until a request adopts it or time is up.
                    await flight.wanted.wait()
            else:
                flight.complete = True
        except BackendError as err:
            if not flight.settled:
                flight.failed = True
                self.gate.failed(err, settings.host)
                flight.settle(None)
            else:
                # The answer was given; only the text read on after it is cut short.
                log.debug("reading on after the answer for %s ended: %s", flight.uri, err)
        finally:
            await stream.aclose()
            self.flights.landed(flight)
        if not flight.settled:
            self._settle(flight, settings)
        if flight.shown_past is not None and self.block_ready is not None:
            # A first line of the text read on was shown: the rest of it is here now.
            self.block_ready(flight.uri, flight.shown_past)
        return flight.answer

    def _settle(self, flight: Flight, settings: Settings) -> None:
        """The flight's answer at its own cursor is known: give it, cache it, remember it."""
        suggestion = finish(flight.raw, flight.ctx, naive=settings.naive)
        flight.settle(suggestion)
        self.gate.succeeded()
        self.reporter.status("fetching" if self.flights else "idle")
        if settings.naive:
            return
        self.cache.put(flight.key, suggestion)
        if suggestion is not None:
            self.recent.remember(
                flight.uri, Shown(flight.ctx.prompt, flight.ctx.suffix, suggestion)
            )
        if flight.partial is not None:
            # The words shown of a first line: the whole answer they belong to is known now.
            self._line_grown(flight, ended=True)
        elif (
            flight.shown_early is not None
            and self.block_ready is not None
            and suggestion is not None
            and "\n" in suggestion.text.strip("\n")
        ):
            # The first line was shown alone: the block it begins is here now.
            self.block_ready(flight.uri, flight.shown_early)


@dataclass(frozen=True)
class _Asked:
    """A request in the pipeline: its place in the document's queue, when it came, the
    document version it is for, and whether its answer is ghost text."""

    ticket: Ticket
    arrived: float
    version: int
    ghost: bool


class _Pending:
    """An answer not known yet."""


_PENDING = _Pending()


def _said_at(flight: Flight, ctx: FimContext, typed: str) -> Suggestion | _Pending | None:
    """The flight's answer at a cursor `typed` past its own, or _PENDING while not known.

    Within the flight's answer, what is left of it; past it, what the model went on to say,
    post-processed at this cursor (only whole lines, when the stream was stopped early).
    """
    if not flight.settled:
        return _PENDING
    if not typed:
        return flight.answer
    if flight.answer is not None:
        shown = Shown(flight.ctx.prompt, flight.ctx.suffix, flight.answer)
        rest = type_through(shown, ctx.prompt, ctx.suffix)
        if rest is not None:
            return rest
    more = flight.raw[len(typed) :]
    if not flight.ended:
        if not stream_done(more, ctx):
            return _PENDING
    elif not flight.complete:
        more = more[: more.rfind("\n") + 1]
    return finish(more, ctx)


def _parted(flight: Flight | None, ctx: FimContext) -> bool:
    """Whether the typing at `ctx` went another way than a stream still short of its answer."""
    if flight is None or flight.settled:
        return False
    typed = flight.typed_extension(ctx)
    return typed is not None and not agrees(typed, flight.raw)


def _covers(flight: Flight | None, ctx: FimContext) -> bool:
    """Whether the document's latest flight answers the cursor at `ctx`.

    It does while it may still say, or has said, text past it, and always at its own cursor:
    a call made there again asks the same, whatever other files now come with the prompt.
    """
    if flight is None:
        return False
    typed = flight.typed_extension(ctx)
    if typed is None or not agrees(typed, flight.raw):
        return False
    return not typed or _says_more(flight, typed)


def _says_more(flight: Flight, typed: str) -> bool:
    """Whether the flight may still say, or has said, something past `typed`."""
    return not flight.ended or bool(flight.raw[len(typed) :].strip())


def _lines_after(text: str, start: int) -> int:
    """Complete lines with something on them from the line that holds text[start] on."""
    begin = text.rfind("\n", 0, start) + 1
    return sum(1 for line in text[begin:].split("\n")[:-1] if line.strip())


def first_line_end(text: str) -> int | None:
    """Where the first line with something on it ends in streamed text (its newline), if it does.

    Blank lines before it are skipped: at the end of a line the answer starts on the next one.
    """
    start = 0
    while (end := text.find("\n", start)) >= 0:
        if text[start:end].strip():
            return end
        start = end + 1
    return None


# The fewest characters (besides spaces) worth showing of a first line still streaming.
MIN_PARTIAL = 3
# How long after the model's first token those words wait for their line (seconds).
WORDS_HOLD = 0.05


def partial_line(text: str) -> str | None:
    """What may be shown of a first line still streaming (no line end after it yet): the text
    up to its last whole word, when that holds a few characters; else None.

    A word at the end may still grow (`get_chi` becomes `get_child`), so it waits for the
    character after it. Blank lines before the first line (at a line's end) come along.
    """
    if first_line_end(text) is not None:
        return None  # the first line is complete: it is shown whole
    start = text.rfind("\n") + 1
    cut = len(text)
    while cut > start and is_word_char(text[cut - 1]):
        cut -= 1
    if len(text[start:cut].strip()) < MIN_PARTIAL:
        return None
    return text[:cut]


class _LastStatus:
    """The reporter, remembering the last status given (to say it again, unchanged)."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self.last: tuple[str, str] | None = None

    def show_once(self, key: str, message: str, *, error: bool) -> None:
        """As the reporter's."""
        self._reporter.show_once(key, message, error=error)

    def log(self, message: str, *, error: bool) -> None:
        """As the reporter's."""
        self._reporter.log(message, error=error)

    def status(self, state: str, message: str = "") -> None:
        """As the reporter's, remembered."""
        self.last = (state, message)
        self._reporter.status(state, message)


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
