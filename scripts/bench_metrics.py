"""Benchmark metrics: percentiles, server process counters from /proc, and the per-run summary."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_oracle import MockCall

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# -- statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, or None when either is missing or den is zero."""
    if num is None or den is None or den == 0:
        return None
    return num / den


def ms(seconds: float | None) -> float | None:
    """Seconds to milliseconds, rounded to 0.01 ms (None stays None)."""
    return None if seconds is None else round(seconds * 1000, 2)


# -- the server process -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a process in seconds: scheduler nanoseconds over its threads, else utime+stime."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    # Fields after the command name start at field 3 (state); utime is 14, stime 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def status_mb(pid: int, key: str) -> float | None:
    """A memory field of /proc/<pid>/status (VmHWM, VmRSS) in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a process in MB."""
    return status_mb(pid, "VmHWM")


# -- what the replay records --------------------------------------------------------------------


@dataclass
class RequestRecord:
    """One inlineCompletion request as the editor sent it, and what became of it."""

    region: str
    cursor: int
    sent: float
    kind: str = "key"  # "key" or "accept"
    done: float | None = None
    cancelled_at: float | None = None
    items: list[Any] = field(default_factory=list)
    source: str | None = None
    error: str | None = None
    # The debounce the server says it applied (seconds), when it reports one.
    applied_debounce: float | None = None

    @property
    def shown(self) -> bool:
        """The answer reached the editor before the next keystroke (not cancelled first)."""
        return (
            self.done is not None
            and self.error is None
            and (self.cancelled_at is None or self.done <= self.cancelled_at)
        )


@dataclass
class PauseRecord:
    """A pause of the typist: the request open at its start, and whether it ended well."""

    request: RequestRecord
    correct: bool
    length: float


def summarize_replay(
    records: list[RequestRecord],
    pauses: list[PauseRecord],
    mock_requests: list[MockCall],
    *,
    keystrokes: int,
    debounce: float | None,
    call_debounce: list[float] | None = None,
    cpu: float,
    rss_mb: float | None,
    wall: float,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """The metrics of one replay run, and the raw latency samples (seconds) for a histogram."""
    info_of = [m.info for m in mock_requests]
    starts = [m.started for m in mock_requests]

    def model_time(m: MockCall) -> float | None:
        end = m.model_end
        return None if end is None else end - m.started

    def first_call_after(t: float) -> int:
        """Index of the first upstream call that started at or after t (calls are in order)."""
        return bisect.bisect_left(starts, t)

    def made_call(rec: RequestRecord) -> bool:
        """The mock saw a new request while `rec` was open."""
        assert rec.done is not None
        i = first_call_after(rec.sent)
        return i < len(starts) and starts[i] <= rec.done

    def exact_match(rec: RequestRecord) -> int | None:
        """The mock request that answered `rec`: same cursor, started while it was open, and
        with output by the answer (a call that had sent nothing cannot have made it)."""
        assert rec.done is not None
        best = None
        for i in range(first_call_after(rec.sent), len(mock_requests)):
            m = mock_requests[i]
            if m.started > rec.done:
                break
            inf = info_of[i]
            if (
                inf is not None
                and inf.region == rec.region
                and inf.cursor == rec.cursor
                and m.token_times
                and m.token_times[0] <= rec.done
            ):
                best = i
        return best

    def reuse_miss(rec: RequestRecord, i: int, wait: float) -> float:
        """How long past its debounce `rec` waited for output of the stream in flight (its
        region's latest, at or before its cursor) that then went another way, before call `i`
        was made for it: the model's time, not the server's. A stream the server did not wait
        on was dropped at once and sends nothing after the debounce."""
        if wait <= 0:
            return 0.0
        start = rec.sent + wait
        for j in range(first_call_after(rec.sent) - 1, -1, -1):
            m = mock_requests[j]
            inf = info_of[j]
            if m.started < rec.sent - 60:
                break
            if inf is None or inf.region != rec.region or inf.cursor > rec.cursor:
                continue
            end = m.output_by(mock_requests[i].started)
            return 0.0 if end is None else max(0.0, end - start)
        return 0.0

    server_added: list[float] = []
    strict: list[float] = []
    pre_call: list[float] = []
    post_call: list[float] = []
    typed_through: list[float] = []
    typed_sources: dict[str, int] = {}
    typed_with_call = 0
    reported = 0
    unknown_debounce = 0
    misses = 0
    worst: list[dict[str, Any]] = []
    reused_stream = 0
    used: set[int] = set()
    answered_by: dict[int, int] = {}
    for n, rec in enumerate(records):
        if not rec.shown or rec.done is None:
            continue
        i = exact_match(rec)
        if i is not None:
            used.add(i)
            answered_by[n] = i
            mt = model_time(mock_requests[i])
            if mt is None:
                continue
            # An answer shown before the stream's last token (the first line first): the model's
            # own time is what it had streamed by then.
            mt = min(mt, rec.done - mock_requests[i].started)
            # The debounce the server reported with the items, else the one it logged for the
            # call, else the nominal one.
            wait = rec.applied_debounce
            if wait is None and call_debounce is not None:
                wait = call_debounce[i]
            reported += wait is not None
            if wait is None:
                wait = debounce
            if wait is None:
                # An adaptive debounce the server did not report (an answer without items).
                unknown_debounce += 1
                continue
            strict.append(rec.done - rec.sent - wait - mt)
            missed = reuse_miss(rec, i, wait)
            misses += missed > 0
            server_added.append(strict[-1] - missed)
            pre_call.append(mock_requests[i].started - rec.sent - wait)
            post_call.append(rec.done - (mock_requests[i].model_end or rec.done))
            worst.append(
                {
                    "ms": ms(server_added[-1]),
                    "strict_ms": ms(strict[-1]),
                    "reuse_miss_ms": ms(missed),
                    "before_call_ms": ms(pre_call[-1]),
                    "after_call_ms": ms(post_call[-1]),
                    "model_ms": ms(mt),
                    "kind": rec.kind,
                    "source": rec.source,
                    "debounce_ms": ms(wait),
                    "completed": bool(mock_requests[i].completed),
                    "chunks": mock_requests[i].chunks_sent,
                }
            )
            if rec.source in ("typed", "cache"):
                typed_with_call += 1
        elif not rec.items:
            continue
        elif rec.source == "model":
            # Answered by a model stream started for an earlier request (stream reuse).
            reused_stream += 1
            for j, m in enumerate(mock_requests):
                if m.started <= rec.done and (m.finished is None or m.finished >= rec.sent):
                    used.add(j)
        elif rec.source in ("typed", "cache") or not made_call(rec):
            typed_through.append(rec.done - rec.sent)
            key = rec.source or "unknown"
            typed_sources[key] = typed_sources.get(key, 0) + 1
            # The text came from an earlier stream (maybe one whose own request was cancelled):
            # the latest model request of this region at or before this cursor.
            source_call = None
            for j, inf in enumerate(info_of):
                if mock_requests[j].started > rec.sent:
                    break
                if inf is not None and inf.region == rec.region and inf.cursor <= rec.cursor:
                    source_call = j
            if source_call is not None:
                used.add(source_call)

    # Calls whose output never reached the screen, with what the oracle knew of each.
    unused = [(i, m, info_of[i]) for i, m in enumerate(mock_requests) if i not in used]
    chunks_total = sum(m.chunks_sent for m in mock_requests)
    chunks_wasted = sum(m.chunks_sent for _, m, _ in unused)
    wasted_wrong = sum(m.chunks_sent for _, m, inf in unused if inf is not None and inf.wrong)
    tokens_total = sum(m.tokens_sent for m in mock_requests)
    tokens_wasted = sum(m.tokens_sent for _, m, _ in unused)
    # Which calls streamed tokens that never reached the screen, to see where waste comes from.
    wasted_calls = [
        {
            "call": i + 1,
            "tokens": m.tokens_sent,
            "wrong_answer": bool(inf is not None and inf.wrong),
            "completed": bool(m.completed),
            "cursor": None if inf is None else f"{inf.region}@{inf.cursor}",
        }
        for i, m, inf in unused
        if m.tokens_sent
    ]

    debounce_included: list[float] = []
    for pause in pauses:
        rec = pause.request
        if not rec.shown or rec.done is None or not rec.items:
            continue
        own = 0.0
        n = records.index(rec)
        if n in answered_by:
            own = model_time(mock_requests[answered_by[n]]) or 0.0
        elif rec.source == "model":
            # A stream started before this keystroke answered it: the model's own time is the
            # part of that stream that fell inside this request's wait.
            own = max(
                (
                    min(end, rec.done) - max(m.started, rec.sent)
                    for m in mock_requests
                    if (end := m.model_end) is not None
                    and m.started <= rec.done
                    and end >= rec.sent
                ),
                default=0.0,
            )
        debounce_included.append(rec.done - rec.sent - own)

    # From the last keystroke before a pause to a suggestion on screen (the pause's request).
    pause_to_screen = [
        p.request.done - p.request.sent
        for p in pauses
        if p.request.shown and p.request.done is not None and p.request.items
    ]
    # From an accept's edit to the next suggestion on screen.
    after_accept = [
        r.done - r.sent for r in records if r.kind == "accept" and r.shown and r.items and r.done
    ]

    calls = len(mock_requests)
    summary: dict[str, Any] = {
        "pause_to_screen_ms": {
            "n": len(pause_to_screen),
            "p50": ms(percentile(pause_to_screen, 50)),
            "p90": ms(percentile(pause_to_screen, 90)),
        },
        "after_accept_ms": {
            "n": len(after_accept),
            "p50": ms(percentile(after_accept, 50)),
            "p90": ms(percentile(after_accept, 90)),
        },
        "keystrokes": keystrokes,
        "requests": len(records),
        "requests_answered": sum(r.shown for r in records),
        "upstream_calls": calls,
        "calls_per_keystroke": round(calls / keystrokes, 4) if keystrokes else None,
        "server_added_ms": {
            "n": len(server_added),
            "p50": ms(percentile(server_added, 50)),
            "p90": ms(percentile(server_added, 90)),
            "p99": ms(percentile(server_added, 99)),
            "max": ms(max(server_added) if server_added else None),
            "before_call_p50": ms(percentile(pre_call, 50)),
            "after_call_p50": ms(percentile(post_call, 50)),
            "debounce_reported": reported,
            "debounce_basis": (
                f"applied debounce reported or logged by the server for {reported} of "
                f"{len(server_added)}, "
                + (
                    f"else the nominal {debounce * 1000:g} ms"
                    if debounce is not None
                    else f"{unknown_debounce} empty answers left out (adaptive debounce unknown)"
                )
            ),
            "worst": sorted(worst, key=lambda w: -(w["strict_ms"] or 0))[:5],
        },
        "server_added_strict_ms": {
            "n": len(strict),
            "p50": ms(percentile(strict, 50)),
            "p99": ms(percentile(strict, 99)),
            "max": ms(max(strict) if strict else None),
            "after_a_reuse_miss": misses,
        },
        "typed_through_ms": {
            "n": len(typed_through),
            "p50": ms(percentile(typed_through, 50)),
            "p90": ms(percentile(typed_through, 90)),
            "sources": typed_sources,
            "with_model_call": typed_with_call,
        },
        "reused_stream_answers": reused_stream,
        "debounce_included_ms": {
            "n": len(debounce_included),
            "p50": ms(percentile(debounce_included, 50)),
            "p90": ms(percentile(debounce_included, 90)),
            "max": ms(max(debounce_included) if debounce_included else None),
            "sorted": [ms(v) for v in sorted(debounce_included)],
        },
        "chunks_sent": chunks_total,
        "chunks_discarded": chunks_wasted,
        "discarded_chunk_share": round(chunks_wasted / chunks_total, 4) if chunks_total else 0.0,
        "chunks_discarded_of_wrong_answers": wasted_wrong,
        "tokens_sent": tokens_total,
        "tokens_discarded": tokens_wasted,
        # The measure: tokens streamed that never reached the screen.
        "discarded_share": round(tokens_wasted / tokens_total, 4) if tokens_total else 0.0,
        "discarded_calls": wasted_calls,
        # Every call: where, whether the oracle answered wrong on purpose, what became of it.
        "call_details": [
            {
                "call": i + 1,
                "cursor": None if inf is None else f"{inf.region}@{inf.cursor}",
                "wrong_answer": bool(inf is not None and inf.wrong),
                "tokens": m.tokens_sent,
                "completed": bool(m.completed),
                "used": i in used,
            }
            for i, (m, inf) in enumerate(zip(mock_requests, info_of, strict=True))
        ],
        "pauses": len(pauses),
        "pauses_correct": sum(p.correct for p in pauses),
        "pause_coverage": round(sum(p.correct for p in pauses) / len(pauses), 4)
        if pauses
        else None,
        "accepted": sum(r.kind == "accept" for r in records),
        "server_cpu_s": round(cpu, 4),
        "cpu_ms_per_keystroke": round(cpu * 1000 / keystrokes, 3) if keystrokes else None,
        "peak_rss_mb": None if rss_mb is None else round(rss_mb, 1),
        "wall_s": round(wall, 1),
        "mock_disconnected": sum(bool(m.disconnected) for m in mock_requests),
        "mock_completed": sum(bool(m.completed) for m in mock_requests),
        "wrong_answers_served": sum(1 for inf in info_of if inf is not None and inf.wrong),
    }
    samples = {"server_added": server_added, "typed_through": typed_through}
    return summary, samples
