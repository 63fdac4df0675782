"""Benchmark load parts: edits in a 10 MB document versus a 10 KB one, and 200 open 50 KB documents."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any

from bench_metrics import cpu_seconds, ms, peak_rss_mb, percentile, status_mb
from bench_replay import (
    ReplayConfig,
    ascii_source,
    cancel_request,
    change_document,
    open_document,
    request_inline,
    start_server,
    stdlib_sources,
    stop_server,
)
from lsprotocol import types
from mock_codestral import MockCodestral, Reply

TYPED = "total = compute(item, 3)"


def typed_responder(body: dict[str, Any]) -> Reply:
    """The model of the load parts: it knows the line being typed and answers the rest of it."""
    prompt = str(body.get("prompt", ""))
    for k in range(len(TYPED), 0, -1):
        if prompt.endswith(TYPED[:k]):
            return Reply(text=TYPED[k:] or "\n")
    return Reply(text=TYPED)


def stdlib_text(target_chars: int) -> str:
    """ASCII standard-library source concatenated to at least `target_chars` characters."""
    parts: list[str] = []
    size = 0
    for path in stdlib_sources():
        if size >= target_chars:
            break
        text = ascii_source(path)
        if text is None:
            continue
        parts.append(text)
        size += len(text) + 1
    return "\n".join(parts)


def cut_at_line(text: str, size: int) -> str:
    """The first `size` characters, ending at a line end."""
    end = text.rfind("\n", 0, size)
    return text[: end + 1 if end > 0 else size]


async def edit_document(
    label: str, text: str, cfg: ReplayConfig, places: int = 5, pause_every: int = 8
) -> dict[str, Any]:
    """Type a short line at `places` spots of one document; CPU per keystroke and request latency."""
    debounce = 0.075
    with MockCodestral(
        responder=typed_responder, ttft=cfg.ttft, token_delay=cfg.token_delay
    ) as mock:
        # A fixed debounce, so request latency compares the documents, not the debounce policy.
        options = {"endpoint": mock.url, "debounceMs": 75, "adaptiveDebounce": False}
        client, pid = await start_server(options)
        uri = f"file:///bench/large/{label}.py"
        try:
            started = time.monotonic()
            open_document(client, uri, text)
            first = request_inline(
                client, uri, types.Position(0, 0), str(uuid.uuid4()), invoked=True
            )
            await asyncio.wait_for(first, 60)
            open_s = time.monotonic() - started
            n_lines = text.count("\n")
            rng = random.Random(cfg.seed)
            version = 1
            cpu_deltas: list[float] = []
            quiet_deltas: list[float] = []  # intervals in which no model call started
            latencies: list[float] = []
            before_call: list[float] = []
            no_call: list[float] = []  # pause answers served without a model call
            for p in range(places):
                line = max(1, int(n_lines * (p + 0.5) / places))
                pending: tuple[str, asyncio.Future[Any], float, int] | None = None
                for col, ch in enumerate(TYPED):
                    before = cpu_seconds(pid)
                    calls_before = len(mock.requests)
                    if pending is not None and not pending[1].done():
                        cancel_request(client, pending[0])
                    version += 1
                    pos = types.Position(line, col)
                    change_document(client, uri, version, pos, pos, ch)
                    msg_id = str(uuid.uuid4())
                    pending = (
                        msg_id,
                        request_inline(client, uri, types.Position(line, col + 1), msg_id),
                        time.monotonic(),
                        len(mock.requests),
                    )
                    pause = (col + 1) % pause_every == 0 or col == len(TYPED) - 1
                    if pause:
                        fut = pending[1]
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(asyncio.shield(fut), 5)
                        done = time.monotonic()
                        cpu_deltas.append(cpu_seconds(pid) - before)
                        new = mock.requests[pending[3] :]
                        ok = fut.done() and not fut.cancelled() and fut.exception() is None
                        if ok and not new:
                            no_call.append(done - pending[2])
                        if ok and new:
                            m = new[-1]
                            end = m.answered or m.finished
                            if end is not None:
                                latencies.append(done - pending[2] - debounce - (end - m.started))
                                before_call.append(m.started - pending[2] - debounce)
                        await asyncio.sleep(0.3)
                    else:
                        await asyncio.sleep(max(0.03, rng.gauss(cfg.key_ms, cfg.jitter_ms) / 1000))
                        cpu_deltas.append(cpu_seconds(pid) - before)
                        if len(mock.requests) == calls_before:
                            quiet_deltas.append(cpu_deltas[-1])
            rss = peak_rss_mb(pid)
        finally:
            await stop_server(client)
    keys = places * len(TYPED)
    return {
        "chars": len(text),
        "lines": n_lines,
        "keystrokes": keys,
        "open_and_first_answer_s": round(open_s, 3),
        "cpu_ms_per_keystroke_p50": ms(percentile(cpu_deltas, 50)),
        "cpu_ms_per_keystroke_p90": ms(percentile(cpu_deltas, 90)),
        "cpu_ms_per_keystroke_without_call_p50": ms(percentile(quiet_deltas, 50)),
        "keystrokes_without_call": len(quiet_deltas),
        "server_added_ms_p50": ms(percentile(latencies, 50)),
        "server_added_ms_max": ms(max(latencies) if latencies else None),
        "server_added_before_call_ms_p50": ms(percentile(before_call, 50)),
        "latency_samples": len(latencies),
        "answer_without_call_ms_p50": ms(percentile(no_call, 50)),
        "answers_without_call": len(no_call),
        "upstream_calls": len(mock.requests),
        "peak_rss_mb": None if rss is None else round(rss, 1),
    }


async def run_large(cfg: ReplayConfig, big_chars: int = 10_000_000) -> dict[str, Any]:
    """A 10 MB and a 10 KB document with the same edits, in the same run."""
    big = stdlib_text(big_chars)
    small = cut_at_line(big, 10_000)
    result = {
        "10MB": await edit_document("big", big, cfg),
        "10KB": await edit_document("small", small, cfg),
    }
    a = result["10MB"]["cpu_ms_per_keystroke_p50"]
    b = result["10KB"]["cpu_ms_per_keystroke_p50"]
    result["cpu_growth_10MB_over_10KB"] = round(a / b, 2) if a and b else None
    return result


async def run_many_docs(cfg: ReplayConfig, count: int = 200, size: int = 50_000) -> dict[str, Any]:
    """Open `count` documents of `size` characters each; the server's peak RSS."""
    text = stdlib_text(count * size + size)
    with MockCodestral(
        responder=typed_responder, ttft=cfg.ttft, token_delay=cfg.token_delay
    ) as mock:
        client, pid = await start_server({"endpoint": mock.url, "debounceMs": 75})
        try:
            baseline_rss = status_mb(pid, "VmRSS")
            started = time.monotonic()
            for i in range(count):
                chunk = cut_at_line(text[i * size :], size)
                open_document(client, f"file:///bench/many/{i}.py", chunk)
            # A request after the opens is answered after they were all handled.
            for i in range(0, count, max(1, count // 5)):
                fut = request_inline(
                    client,
                    f"file:///bench/many/{i}.py",
                    types.Position(10, 0),
                    str(uuid.uuid4()),
                    invoked=True,
                )
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(fut, 30)
            open_s = time.monotonic() - started
            rss = peak_rss_mb(pid)
            now = status_mb(pid, "VmRSS")
        finally:
            await stop_server(client)
    return {
        "documents": count,
        "chars_each": size,
        "open_s": round(open_s, 2),
        "rss_before_mb": None if baseline_rss is None else round(baseline_rss, 1),
        "rss_after_mb": None if now is None else round(now, 1),
        "peak_rss_mb": None if rss is None else round(rss, 1),
    }
