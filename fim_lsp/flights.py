"""Flights: at most one upstream stream per document, which later requests may adopt.

A request either extends the flight's prompt with characters the stream produced (or may still
produce) and waits for it, or ends it. A flight nobody waits for is read no further and ends
after a short grace; nobody waits for one past its deadline (the timeout from its start).
Once its answer is settled a flight may read on (what the model says after it, for the cursor
the user reaches by typing past the answer); after its stream ends it stays the document's
last flight, still adoptable, until another replaces it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .backends import CacheKey
from .cache import typed_since
from .context import FimContext
from .postprocess import Suggestion
from .scheduler import Superseded, Ticket

# How long a stream whose requests were all cancelled waits, unread, for a request to adopt it.
# VS Code cancels on each keystroke and asks again a few milliseconds later.
ADOPT_GRACE = 0.2
# The most characters a user types ahead of a stream that is still worth waiting for.
MAX_TYPED = 256
# A flight's deadline is its timeout plus this, so the stream's own timeout (which says which
# phase hung) is normally the one that ends it; the deadline is the backstop.
DEADLINE_MARGIN = 0.1


class FlightTimedOut(Exception):
    """The flight did not finish by its deadline."""


def agrees(typed: str, raw: str) -> bool:
    """Whether what the user typed and what the model streamed can still be the same text."""
    n = min(len(typed), len(raw))
    return typed[:n] == raw[:n]


@dataclass(frozen=True)
class Outcome:
    """How a wait on a flight ended."""

    diverged: bool = False  # the stream and the typing parted
    early: bool = False  # the text streamed so far was ready; the flight goes on


@dataclass(eq=False)
class Flight:
    """One upstream stream and what it has produced so far."""

    uri: str
    key: CacheKey
    ctx: FimContext
    deadline: float  # event-loop time
    started: float = 0.0  # event-loop time
    raw: str = ""  # the text streamed so far
    first_token: float | None = None  # event-loop time of the first text
    interest: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Suggestion | None] | None = None
    grace: asyncio.TimerHandle | None = None
    # Started ahead of any request (after an accept): read on without a waiter, for the cache.
    eager: bool = False
    failed: bool = False  # timed out or the backend raised: its None is no answer
    # The document version a first line was shown for while the stream read on: of the
    # flight's own answer, or (past) of the text read on after it.
    shown_early: int | None = None
    shown_past: int | None = None
    # The (document version, characters typed past the flight's cursor) a first line still
    # streaming was shown for: the editor is told when that line is complete.
    partial: tuple[int, int] | None = None
    # The answer at the flight's own cursor, once known (the stream may read on after it).
    settled: bool = False
    answer: Suggestion | None = None
    ended: bool = False  # the stream ended (its text is all there will be)
    complete: bool = False  # ...because the model ended it, not an early stop

    def typed_extension(self, ctx: FimContext) -> str | None:
        """The characters typed since this flight's prompt, if `ctx` continues it; else None."""
        if ctx.suffix != self.ctx.suffix:
            return None
        return typed_since(self.ctx.prompt, ctx.prompt, MAX_TYPED)

    def streamed(self, text: str) -> None:
        """The stream produced more text."""
        if not self.raw:
            self.first_token = asyncio.get_running_loop().time()
        self.raw += text
        self.progress.set()

    def settle(self, answer: Suggestion | None) -> None:
        """The answer at the flight's own cursor is known."""
        self.settled = True
        self.answer = answer
        self.progress.set()


class Flights:
    """The flights in the air, by document."""

    def __init__(self) -> None:
        self._by_uri: dict[str, Flight] = {}

    def __bool__(self) -> bool:
        """Whether an answer is still awaited from some stream."""
        return any(not f.settled for f in self._by_uri.values())

    def get(self, uri: str) -> Flight | None:
        """The document's flight, if one is in the air."""
        flight = self._by_uri.get(uri)
        return None if flight is None or flight.ended else flight

    def latest(self, uri: str) -> Flight | None:
        """The document's flight in the air, or its last one when that ended with an answer."""
        flight = self._by_uri.get(uri)
        if flight is None or flight.failed or (flight.ended and not flight.settled):
            return None
        return flight

    def launch(
        self,
        uri: str,
        key: CacheKey,
        ctx: FimContext,
        timeout: float,
        run: Callable[[Flight], Coroutine[Any, Any, Suggestion | None]],
        *,
        eager: bool = False,
    ) -> Flight:
        """Start `run(flight)` as the document's flight (`eager`: read on with nobody waiting)."""
        now = asyncio.get_running_loop().time()
        flight = Flight(uri, key, ctx, now + timeout + DEADLINE_MARGIN, started=now, eager=eager)
        flight.task = asyncio.ensure_future(run(flight))
        self._by_uri[uri] = flight
        return flight

    def landed(self, flight: Flight) -> None:
        """The flight's stream ended: what it said is all it will say."""
        flight.ended = True
        flight.progress.set()

    def drop(self, uri: str) -> None:
        """End the document's flight, if any."""
        flight = self._by_uri.pop(uri, None)
        if flight is not None:
            _cancel(flight)

    def drop_all(self) -> None:
        """End every flight."""
        for uri in list(self._by_uri):
            self.drop(uri)

    async def wait(
        self,
        ticket: Ticket,
        flight: Flight,
        typed: str,
        *,
        known: Callable[[], bool],
        ready: Callable[[str], float | None] | None = None,
        ready_at: float = math.inf,
    ) -> Outcome:
        """Wait until `known()` (the answer at the waiter's cursor is) while the flight agrees
        with what the user typed, or until the stream ends.

        `ready`: from event-loop time `ready_at` on, given the text streamed past `typed`, the
        event-loop time from which that text is answer enough (None: not yet); once that time
        comes the outcome is `early`, and the flight goes on.
        Raises Superseded when a newer request for the document arrives, FlightTimedOut at the
        flight's deadline.
        """
        assert flight.task is not None
        flight.interest += 1
        flight.wanted.set()
        if flight.grace is not None:
            flight.grace.cancel()
            flight.grace = None
        loop = asyncio.get_running_loop()
        superseded = asyncio.ensure_future(ticket.superseded.wait())
        try:
            while not flight.ended and not flight.task.done():
                if typed and not agrees(typed, flight.raw):
                    return Outcome(diverged=True)
                if known():
                    return Outcome()
                until = None
                if ready is not None:
                    if loop.time() < ready_at:
                        until = ready_at
                    elif len(flight.raw) >= len(typed):
                        until = ready(flight.raw[len(typed) :])
                        if until is not None and loop.time() >= until:
                            return Outcome(early=True)
                await _next_delta(ticket, flight, superseded, until)
            if typed and not agrees(typed, flight.raw):
                return Outcome(diverged=True)
            if not flight.settled:
                task = flight.task
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise RuntimeError("the stream's task failed") from task.exception()
                # Ended with no answer: cancelled for a newer request.
                raise Superseded
            return Outcome()
        finally:
            superseded.cancel()
            self._lose_interest(flight)

    def keep(self, flight: Flight) -> None:
        """Read the flight on to its end with nobody waiting (its answer goes to the cache)."""
        flight.eager = True
        flight.wanted.set()
        if flight.grace is not None:
            flight.grace.cancel()
            flight.grace = None

    def _lose_interest(self, flight: Flight) -> None:
        """A waiter left; a flight nobody waits for waits unread for a grace (unless eager)."""
        flight.interest -= 1
        if flight.interest == 0 and not (flight.ended or flight.eager or flight.settled):
            flight.wanted.clear()
            flight.grace = asyncio.get_running_loop().call_later(ADOPT_GRACE, _expire, flight)


def _expire(flight: Flight) -> None:
    if flight.interest == 0:
        _cancel(flight)


def _cancel(flight: Flight) -> None:
    if flight.grace is not None:
        flight.grace.cancel()
    if flight.task is not None and not flight.task.done():
        flight.task.cancel()


async def _next_delta(
    ticket: Ticket, flight: Flight, superseded: asyncio.Future[Any], until: float | None = None
) -> None:
    """Wait for the flight's next delta or its end (or event-loop time `until`, if given).

    Raises Superseded or FlightTimedOut as they come.
    """
    assert flight.task is not None
    now = asyncio.get_running_loop().time()
    left = flight.deadline - now
    if left <= 0:
        flight.failed = True
        _cancel(flight)
        raise FlightTimedOut
    if until is not None:
        left = min(left, max(0.0, until - now))
    flight.progress.clear()
    progress = asyncio.ensure_future(flight.progress.wait())
    try:
        await asyncio.wait(
            {flight.task, progress, superseded}, timeout=left, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        progress.cancel()
    if ticket.is_superseded:
        raise Superseded
