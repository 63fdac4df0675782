"""Per-document debounce and supersession."""

from __future__ import annotations

import asyncio

import pytest

from fim_lsp.scheduler import Rhythm, Scheduler, Superseded


async def test_newer_request_supersedes_the_waiting_one_at_once() -> None:
    scheduler = Scheduler()
    first = scheduler.enter("doc")
    waiting = asyncio.ensure_future(scheduler.debounce(first, 10))
    await asyncio.sleep(0)
    second = scheduler.enter("doc")
    with pytest.raises(Superseded):
        await asyncio.wait_for(waiting, 1)
    await scheduler.debounce(second, 0.01)


async def test_other_documents_are_independent() -> None:
    scheduler = Scheduler()
    a = scheduler.enter("a")
    scheduler.enter("b")
    await scheduler.debounce(a, 0.01)


def test_rhythm_starts_from_the_setting_then_follows_the_typing() -> None:
    rhythm = Rhythm()
    kwargs = {"fixed": 0.075, "low": 0.03, "high": 0.3, "adaptive": True}
    assert rhythm.delay(boundary=False, **kwargs) == 0.075
    now = 0.0
    for _ in range(20):
        now += 0.1
        rhythm.keystroke("doc", now)
    mid_word = rhythm.delay(boundary=False, **kwargs)
    at_pause = rhythm.delay(boundary=True, **kwargs)
    # Longer than a typical gap mid-word; shorter where users pause.
    assert 0.1 < mid_word <= 0.3
    assert at_pause < mid_word
    # A pause is not a typing gap.
    rhythm.keystroke("doc", now + 5)
    assert rhythm.delay(boundary=False, **kwargs) == mid_word
    # A model much slower than the typing shortens the wait.
    rhythm.model_latency(1.0)
    assert rhythm.delay(boundary=False, **kwargs) < mid_word
    # Bounds and the fixed mode.
    assert rhythm.delay(boundary=False, fixed=0.075, low=0.2, high=0.3, adaptive=True) >= 0.2
    assert rhythm.delay(boundary=False, fixed=0.075, low=0.03, high=0.3, adaptive=False) == 0.075
