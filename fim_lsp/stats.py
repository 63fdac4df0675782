"""Local usage statistics: suggestions shown and accepted, latency, model calls; never sent anywhere.

The server counts in memory and appends one JSON line per day with activity to
`$XDG_STATE_HOME/fim-lsp/stats.jsonl` (default `~/.local/state/fim-lsp/`) at most every
`FLUSH_SECONDS` and when it exits: no write, let alone an fsync, per keystroke. `fim-lsp stats`
sums the lines into today, the last 7 days and all time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "stats.jsonl"
FLUSH_SECONDS = 30.0
# Past this size the file is rewritten as one line per day (latencies included).
COMPACT_BYTES = 4 * 1024 * 1024
SOURCES = ("model", "cache", "typed")
_COUNTS = ("suggested", "shown", "accepted", "partial", "chars_accepted", "model_calls")


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's state folder for fim-lsp (XDG base directory spec)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path(env.get("HOME", "~")) / ".local" / "state"
    return root.expanduser() / "fim-lsp"


def utf16_prefix(text: str, units: int) -> str:
    """The first `units` UTF-16 code units of `text` (LSP lengths count those), whole characters."""
    taken = 0
    for i, char in enumerate(text):
        taken += 2 if ord(char) > 0xFFFF else 1
        if taken > units:
            return text[:i]
    return text


def field_of(params: Any, name: str) -> Any:
    """A field of a notification's params, whether pygls gives them as a dict or an object."""
    if isinstance(params, Mapping):
        return params.get(name)
    return getattr(params, name, None)


def _insert_text(item: Any) -> str:
    text = field_of(item, "insertText")
    if isinstance(text, str):
        return text
    value = field_of(text, "value")  # a StringValue snippet
    return value if isinstance(value, str) else ""


def shown_text(params: Any) -> str:
    """The suggestion's text from `textDocument/didShowCompletion` params `{item}`."""
    return _insert_text(field_of(params, "item"))


def partial_accept(params: Any) -> tuple[str, int]:
    """(suggestion text, characters taken so far) from didPartiallyAcceptCompletion params."""
    text = shown_text(params)
    length = field_of(params, "acceptedLength")
    units = length if isinstance(length, int) and length > 0 else 0
    return text, len(utf16_prefix(text, units))


@dataclass
class Day:
    """One day's counts and the latencies (ms) of its answered suggestions."""

    suggested: int = 0  # answers that carried a new suggestion (not typed through)
    shown: int = 0  # suggestions the client reported shown (didShowCompletion)
    accepted: int = 0
    partial: int = 0
    chars_accepted: int = 0
    model_calls: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    # Whether the client reported what it showed; if not, each suggestion counts as shown.
    reports_shown: bool = False
    # The sum of `seen` over the days folded in (-1: a day read from one line, not a sum).
    seen_total: int = -1

    def add(self, other: Day) -> None:
        """Fold another day (or part of one) into this one."""
        seen = self.seen + other.seen
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for source, n in other.sources.items():
            self.sources[source] = self.sources.get(source, 0) + n
        self.latency_ms.extend(other.latency_ms)
        self.seen_total = seen

    @property
    def seen(self) -> int:
        """Suggestions the user saw: as the client reported them, else as answered."""
        if self.seen_total >= 0:
            return self.seen_total
        return self.shown if self.reports_shown else self.suggested

    @property
    def dismissed(self) -> int:
        """Seen and neither accepted nor partly accepted."""
        return max(0, self.seen - self.accepted - self.partial)

    def to_json(self, day: str) -> dict[str, Any]:
        """One line of the stats file."""
        line: dict[str, Any] = {"day": day}
        line.update({name: getattr(self, name) for name in _COUNTS if getattr(self, name)})
        if self.sources:
            line["sources"] = dict(self.sources)
        if self.latency_ms:
            line["latency_ms"] = [round(ms, 1) for ms in self.latency_ms]
        if self.reports_shown:
            line["reports_shown"] = True
        return line

    @classmethod
    def from_json(cls, line: Mapping[str, Any]) -> Day:
        """A line of the stats file (unknown or malformed fields are ignored)."""
        day = cls()
        for name in _COUNTS:
            value = line.get(name, 0)
            if isinstance(value, int) and value >= 0:
                setattr(day, name, value)
        sources = line.get("sources", {})
        if isinstance(sources, dict):
            day.sources = {k: v for k, v in sources.items() if isinstance(v, int) and v >= 0}
        latency = line.get("latency_ms", [])
        if isinstance(latency, list):
            day.latency_ms = [float(v) for v in latency if isinstance(v, (int, float))]
        day.reports_shown = line.get("reports_shown") is True
        return day


class Recorder:
    """The server's counters: cheap to update, flushed to the stats file now and then."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.path = path if path is not None else state_dir() / FILE_NAME
        self._clock = clock
        self._today = today
        self._pending: dict[str, Day] = {}
        self._last_flush = clock()
        self._calls_seen = 0
        self._reports_shown = False
        self._failed = False
        # Characters counted so far per partly accepted suggestion (by its text).
        self._partial: dict[str, int] = {}
        # What is left of the suggestion last shown: its rest, shown again, is no new suggestion.
        self._showing: str | None = None

    def _day(self) -> Day:
        key = self._today().isoformat()
        day = self._pending.get(key)
        if day is None:
            day = self._pending[key] = Day(reports_shown=self._reports_shown)
        return day

    def suggested(self, source: str, latency_ms: float) -> None:
        """An answer carried a suggestion, `latency_ms` after its request arrived.

        One typed through is the rest of a suggestion already counted.
        """
        day = self._day()
        if source != "typed":
            day.suggested += 1
        day.sources[source] = day.sources.get(source, 0) + 1
        day.latency_ms.append(latency_ms)

    def model_calls(self, total: int) -> None:
        """The engine's running count of model calls (counted here as the increase)."""
        if total > self._calls_seen:
            self._day().model_calls += total - self._calls_seen
        self._calls_seen = total

    def shown(self, text: str) -> None:
        """The client showed suggestion `text` (textDocument/didShowCompletion).

        Clients ask again on every key, so typing through a suggestion shows its rest again and
        again: that is the same suggestion, counted once.
        """
        self._reports_shown = True
        day = self._day()
        day.reports_shown = True
        if self._showing is None or not self._showing.endswith(text):
            day.shown += 1
        self._showing = text

    def accepted(self, chars: int, text: str | None = None) -> None:
        """The user accepted the whole suggestion `text` of `chars` characters.

        One partly accepted before stays counted as partly accepted; only the rest of its
        characters are added.
        """
        day = self._day()
        self._showing = None
        origin = self._origin(text) if text is not None else None
        if origin is None:
            day.accepted += 1
            day.chars_accepted += chars
        else:
            key, offset = origin
            day.chars_accepted += max(0, offset + chars - self._partial.pop(key))

    def partially_accepted(self, text: str, chars: int) -> None:
        """The user has accepted the first `chars` characters of suggestion `text` so far.

        As in Copilot's protocol the length is the total so far: a second word accepted from
        the same suggestion adds its characters, not another partial acceptance.
        """
        day = self._day()
        origin = self._origin(text)
        if origin is None:
            day.partial += 1
            if len(self._partial) >= 64:
                self._partial.clear()
            key, total, before = text, chars, 0
        else:
            key, offset = origin
            total, before = offset + chars, self._partial[key]
        day.chars_accepted += max(0, total - before)
        self._partial[key] = max(total, before)
        self._showing = key[total:]

    def _origin(self, text: str) -> tuple[str, int] | None:
        """The partly accepted suggestion `text` is, or is the rest of, and where that rest starts.

        A client that asks again after a word accept gets the rest of the same suggestion as a
        new item (typed through): still one suggestion for the statistics.
        """
        if text in self._partial:
            return text, 0
        for key in reversed(self._partial):
            if text and len(key) > len(text) and key.endswith(text):
                return key, len(key) - len(text)
        return None

    def maybe_flush(self) -> None:
        """Flush when the last flush is `FLUSH_SECONDS` old (called on activity, costs a clock read)."""
        if self._pending and self._clock() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Append what was counted since the last flush, one line per day; errors only logged."""
        self._last_flush = self._clock()
        if not self._pending or self._failed:
            return
        pending, self._pending = self._pending, {}
        lines = "".join(
            json.dumps(day.to_json(key), separators=(",", ":")) + "\n"
            for key, day in sorted(pending.items())
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(lines)
            if self.path.stat().st_size > COMPACT_BYTES:
                compact(self.path)
        except OSError as err:
            # Statistics are a nicety: a read-only home must not cost suggestions.
            self._failed = True
            log.warning("cannot write statistics to %s: %s", self.path, err)


def read_days(path: Path) -> dict[str, Day]:
    """The stats file summed per day; a missing file is no days, a bad line is skipped."""
    days: dict[str, Day] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return days
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
            key = date.fromisoformat(line["day"]).isoformat()
        except (ValueError, KeyError, TypeError):
            continue
        days.setdefault(key, Day()).add(Day.from_json(line))
    return days


def compact(path: Path) -> None:
    """Rewrite the file as one line per day, atomically."""
    days = read_days(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        "".join(
            json.dumps(day.to_json(key), separators=(",", ":")) + "\n"
            for key, day in sorted(days.items())
        ),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), nearest rank; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(days: Mapping[str, Day], today: date) -> list[tuple[str, Day]]:
    """(label, totals) for today, the last 7 days (today included) and all time."""
    week_start = (today - timedelta(days=6)).isoformat()
    periods = [("today", today.isoformat()), ("7 days", week_start), ("all time", "")]
    result = []
    for label, since in periods:
        total = Day()
        for key, day in days.items():
            if not since or since <= key <= today.isoformat():
                total.add(day)
        result.append((label, total))
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def report(days: Mapping[str, Day], today: date) -> str:
    """The table `fim-lsp stats` prints."""
    periods = summarize(days, today)
    rows: list[tuple[str, ...]] = [("", *(label for label, _ in periods))]

    def row(name: str, cell: Callable[[Day], str]) -> None:
        rows.append((name, *(cell(day) for _, day in periods)))

    def rate(day: Day) -> str:
        if not day.seen:
            return "-"
        taken = day.accepted + day.partial
        return f"{100 * taken / day.seen:.0f}% ({taken}/{day.seen})"

    row("suggestions shown", lambda d: str(d.seen))
    row("accepted", lambda d: str(d.accepted))
    row("partially accepted", lambda d: str(d.partial))
    row("dismissed", lambda d: str(d.dismissed))
    row("acceptance rate", rate)
    row("characters accepted", lambda d: str(d.chars_accepted))
    row("latency p50", lambda d: _ms(percentile(d.latency_ms, 50)))
    row("latency p90", lambda d: _ms(percentile(d.latency_ms, 90)))
    row("model calls", lambda d: str(d.model_calls))
    row(
        "from model/cache/typed",
        lambda d: "/".join(str(d.sources.get(source, 0)) for source in SOURCES),
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r)
        ).rstrip()
        for r in rows
    )
