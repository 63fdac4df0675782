"""Per-document debounce and supersession: only the newest request of a document goes upstream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class Superseded(Exception):
    """A newer request for the same document took this one's place."""


class Ticket:
    """One request's place in its document's queue."""

    __slots__ = ("key", "superseded")

    def __init__(self, key: str) -> None:
        self.key = key
        self.superseded = asyncio.Event()

    @property
    def is_superseded(self) -> bool:
        """True once a newer request for the same document arrived."""
        return self.superseded.is_set()


class Scheduler:
    """Hands out tickets per document; a new ticket supersedes the previous one at once."""

    def __init__(self) -> None:
        self._current: dict[str, Ticket] = {}

    def enter(self, key: str) -> Ticket:
        """A ticket for a new request; the document's previous request is superseded."""
        previous = self._current.get(key)
        if previous is not None:
            previous.superseded.set()
        ticket = Ticket(key)
        self._current[key] = ticket
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The request is over."""
        if self._current.get(ticket.key) is ticket:
            del self._current[ticket.key]

    def forget(self, key: str) -> None:
        """The document closed: supersede whatever it still had running."""
        ticket = self._current.pop(key, None)
        if ticket is not None:
            ticket.superseded.set()

    def supersede_all(self) -> None:
        """Shutting down: end every waiting or running request."""
        for key in list(self._current):
            self.forget(key)

    async def debounce(self, ticket: Ticket, seconds: float) -> None:
        """Wait `seconds` of quiet; raise Superseded as soon as a newer request arrives."""
        if ticket.is_superseded:
            raise Superseded
        if seconds > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ticket.superseded.wait(), seconds)
        if ticket.is_superseded:
            raise Superseded

    async def run(self, ticket: Ticket, work: Awaitable[T]) -> T:
        """Run `work` until it finishes or the ticket is superseded (then it is cancelled)."""
        if ticket.is_superseded:
            if asyncio.iscoroutine(work):
                work.close()
            raise Superseded
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(ticket.superseded.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Cancelled by the client, or superseded: either way the work (and its HTTP stream) ends here.
            waiter.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if not task.cancelled() and task.done() and task.exception() is None:
            return task.result()
        if task.cancelled() or ticket.is_superseded:
            raise Superseded
        exc = task.exception()
        assert exc is not None
        raise exc
