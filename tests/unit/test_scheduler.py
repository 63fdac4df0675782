"""Per-document debounce and supersession."""

from __future__ import annotations

import asyncio

import pytest

from fim_lsp.scheduler import Scheduler, Superseded


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


async def test_superseding_cancels_running_work() -> None:
    scheduler = Scheduler()
    ticket = scheduler.enter("doc")
    cancelled = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "done"

    running = asyncio.ensure_future(scheduler.run(ticket, work()))
    await asyncio.sleep(0.01)
    scheduler.enter("doc")
    with pytest.raises(Superseded):
        await asyncio.wait_for(running, 1)
    assert cancelled.is_set()


async def test_cancelling_the_caller_cancels_the_work() -> None:
    scheduler = Scheduler()
    ticket = scheduler.enter("doc")
    cancelled = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    running = asyncio.ensure_future(scheduler.run(ticket, work()))
    await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert cancelled.is_set()


async def test_work_errors_propagate() -> None:
    scheduler = Scheduler()

    async def work() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await scheduler.run(scheduler.enter("doc"), work())


async def test_result_is_returned() -> None:
    scheduler = Scheduler()

    async def work() -> int:
        return 42

    assert await scheduler.run(scheduler.enter("doc"), work()) == 42
