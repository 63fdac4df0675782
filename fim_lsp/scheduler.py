"""Per-document debounce and supersession: only the newest request of a document goes upstream."""

from __future__ import annotations

import asyncio
import enum
from collections import deque

from .context import is_word_char, word_start


class Superseded(Exception):
    """A newer request for the same document took this one's place."""


class Ticket:
    """One request's place in its document's queue."""

    __slots__ = ("_sleep", "key", "superseded")

    def __init__(self, key: str) -> None:
        self.key = key
        self.superseded = asyncio.Event()
        self._sleep: asyncio.Future[None] | None = None

    @property
    def is_superseded(self) -> bool:
        """True once a newer request for the same document arrived."""
        return self.superseded.is_set()

    def supersede(self) -> None:
        """A newer request took this one's place: end its debounce at once."""
        self.superseded.set()
        self.wake()

    def wake(self) -> None:
        """End the debounce now, without superseding (a flight it can adopt has started)."""
        if self._sleep is not None:
            _wake(self._sleep)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`, less if superseded meanwhile.

        One future and one timer: cheaper to wake from than wait_for and the task it makes.
        """
        loop = asyncio.get_running_loop()
        sleep: asyncio.Future[None] = loop.create_future()
        self._sleep = sleep
        timer = loop.call_later(seconds, _wake, sleep)
        try:
            await sleep
        finally:
            timer.cancel()
            self._sleep = None


class Scheduler:
    """Hands out tickets per document; a new ticket supersedes the previous one at once."""

    def __init__(self) -> None:
        self._current: dict[str, Ticket] = {}

    def enter(self, key: str) -> Ticket:
        """A ticket for a new request; the document's previous request is superseded."""
        previous = self._current.get(key)
        if previous is not None:
            previous.supersede()
        ticket = Ticket(key)
        self._current[key] = ticket
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The request is over."""
        if self._current.get(ticket.key) is ticket:
            del self._current[ticket.key]

    def current(self, key: str) -> Ticket | None:
        """The document's newest request still running, if any."""
        return self._current.get(key)

    def forget(self, key: str) -> None:
        """The document closed: supersede whatever it still had running."""
        ticket = self._current.pop(key, None)
        if ticket is not None:
            ticket.supersede()

    def supersede_all(self) -> None:
        """Shutting down: end every waiting or running request."""
        for key in list(self._current):
            self.forget(key)

    async def debounce(self, ticket: Ticket, seconds: float) -> None:
        """Wait `seconds` of quiet; raise Superseded as soon as a newer request arrives."""
        if ticket.is_superseded:
            raise Superseded
        if seconds > 0:
            await ticket.sleep(seconds)
        if ticket.is_superseded:
            raise Superseded


def _wake(sleep: asyncio.Future[None]) -> None:
    if not sleep.done():
        sleep.set_result(None)


class Spot(enum.Enum):
    """Where the cursor is, as far as the odds of a pause there go."""

    PUNCTUATION = "after punctuation"
    WORD_END = "after a whole word"
    LINE_START = "at a line's start"
    PARTIAL = "inside a word"
    OTHER = "after a space"

    @property
    def pause_likely(self) -> bool:
        """Whether users often stop here (where a call made at once is rarely wasted)."""
        return self in (Spot.PUNCTUATION, Spot.WORD_END, Spot.LINE_START)


# Multiples of the typical key gap to wait at each spot. Where pauses are common (after
# punctuation, after a word that the file already holds) the engine does not wait at all when it
# works ahead (setting `workAhead`); otherwise just under a typical gap, so a pause
# gets its call early; inside a word, where a pause is rare, well past it, so ordinary slow keys
# do not start calls that the next key throws away. Tuned with scripts/bench.py (see README).
_FACTOR = {
    Spot.PUNCTUATION: 0.9,
    Spot.WORD_END: 0.85,
    Spot.LINE_START: 0.9,
    Spot.PARTIAL: 1.45,
    Spot.OTHER: 1.12,
}
# Characters after which a pause is likely: the end of a statement, clause or argument.
_PAUSE_AFTER = frozenset(":;,)]}{([=\n")
# A longer word is judged by its last characters; occurrences of a word looked at, at most. Both
# keep the cost per keystroke bounded by the (already bounded) prompt, not by the word.
_LONGEST_WORD = 48
_WORD_LOOKS = 64


def spot_at(prompt: str, suffix: str) -> Spot:
    """Classify the cursor at the end of `prompt`: after punctuation, at a line's start (its
    indentation or first character), after a whole word, inside one."""
    last = prompt[-1:]
    if last in _PAUSE_AFTER:
        return Spot.PUNCTUATION
    line = prompt[prompt.rfind("\n") + 1 :]
    first = line.lstrip(" \t")
    if (line and not first) or (len(first) == 1 and is_word_char(first)):
        # A new line's indentation, or its first character: the model can say the whole line.
        return Spot.LINE_START
    if not is_word_char(last):
        return Spot.OTHER
    start = word_start(prompt, len(prompt), _LONGEST_WORD)
    word = prompt[start:]
    # A word the file already uses is likely finished (a name being typed again); one it does
    # not is likely still being typed.
    if _has_whole_word(prompt, word, start) or _has_whole_word(suffix, word, len(suffix)):
        return Spot.WORD_END
    return Spot.PARTIAL


def _has_whole_word(text: str, word: str, end: int) -> bool:
    """Whether `word` stands alone (not inside a longer word) somewhere in text[:end]."""
    n = len(word)
    at = text.find(word, 0, end)
    for _ in range(_WORD_LOOKS):
        if at < 0:
            return False
        before = text[at - 1] if at > 0 else " "
        after = text[at + n] if at + n < len(text) else " "
        if not is_word_char(before) and not is_word_char(after):
            return True
        at = text.find(word, at + 1, end)
    return False


class Rhythm:
    """Learns the user's typing rhythm and the model's latency, and proposes a debounce delay.

    A key that comes later than a typical gap means the user paused: waiting about that gap, less
    where pauses are common and more inside a word, fires at pauses and rarely mid-word. A slow
    model shortens the wait, since its own latency already delays the suggestion.
    """

    # Gaps longer than this are pauses, not typing.
    TYPING_GAP = 0.6
    MIN_SAMPLES = 6

    def __init__(self, window: int = 40) -> None:
        self._gaps: deque[float] = deque(maxlen=window)
        self._last: dict[str, float] = {}
        self._latency: float | None = None

    def keystroke(self, key: str, now: float) -> None:
        """An edit in document `key` at time `now` (seconds)."""
        last = self._last.get(key)
        if last is not None and 0 < now - last < self.TYPING_GAP:
            self._gaps.append(now - last)
        self._last[key] = now

    def forget(self, key: str) -> None:
        """The document closed."""
        self._last.pop(key, None)

    def last_edit(self, key: str) -> float | None:
        """When document `key` was last edited, if it was."""
        return self._last.get(key)

    def model_latency(self, seconds: float) -> None:
        """Time to first token of a finished request (moving average)."""
        if self._latency is None:
            self._latency = seconds
        else:
            self._latency += 0.3 * (seconds - self._latency)

    def delay(self, *, fixed: float, low: float, high: float, adaptive: bool, spot: Spot) -> float:
        """Seconds to wait before calling the model.

        `spot`: where the cursor is, which tells how likely a pause is there.
        """
        if not adaptive:
            return fixed
        if len(self._gaps) < self.MIN_SAMPLES:
            return min(max(fixed, low), high)
        gaps = sorted(self._gaps)
        typical = gaps[len(gaps) // 2]
        # About a typical gap: later than that, the user has most likely paused.
        wait = _FACTOR[spot] * typical + 0.005
        if self._latency is not None and self._latency > 4 * typical:
            # A model much slower than the typing: its latency already hides a false start.
            wait -= min(0.1 * self._latency, 0.25 * wait)
        return min(max(wait, low), high)
