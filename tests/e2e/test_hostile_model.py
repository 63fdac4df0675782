"""End to end: the real `fim-lsp` against model servers that misbehave on purpose.

Each scenario (tests/hostile_servers.py) is a real HTTP server on 127.0.0.1 that answers a
HOSTILE prompt badly (compression bombs, floods, an endless line, drips, hangs) and any other
prompt well. With `timeoutMs` 2000 the hostile request is answered within the timeout and a
margin, a request for another document made meanwhile is answered at once (nothing stalls the
event loop), shutdown with a hostile stream in flight is prompt, and the server's peak RSS
grows by less than 100 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hostile_servers import MARK, REPLY, SCENARIOS, HostileServer
from lsp_support import API_KEY, Editor, inline_capabilities, server_env, texts, until
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

TIMEOUT_MS = 2000
# Time over the timeout for the answer to reach the editor (a loaded test machine included).
MARGIN = 1.0
# The longest a request for another document may take while the hostile stream runs.
CALM_WITHIN = 1.0
RSS_GROWTH_MB = 100
SHUTDOWN_WITHIN = 3.0

CALM = "def add(a, b):\n    return \n"
CALM_CURSOR = len("def add(a, b):\n    return ")
HOSTILE = f"# {MARK}\ndef sub(a, b):\n    return \n"
HOSTILE_CURSOR = len(f"# {MARK}\ndef sub(a, b):\n    return ")


def memory_kb(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in kB (VmRSS now, VmHWM the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


@contextlib.asynccontextmanager
async def session(endpoint: str) -> AsyncIterator[LanguageClient]:
    """`fim-lsp` initialized against `endpoint`; the test shuts it down itself (and times it)."""
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "fim_lsp", "-v"],
        server_env=server_env(MISTRAL_API_KEY=API_KEY),
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(),
                initialization_options={
                    "endpoint": endpoint,
                    "timeoutMs": TIMEOUT_MS,
                    "debounceMs": 0,
                    # One call per request, so a test knows which streams are in flight (a
                    # call made ahead for the calm document would carry the hostile one as
                    # context).
                    "speculateAfterAccept": False,
                },
            )
        )
        yield client
    finally:
        await client.stop()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_hostile_answer_costs_bounded_time_and_memory(scenario: str) -> None:
    with HostileServer(scenario) as model:
        async with session(model.url) as client:
            assert client._server is not None
            pid = client._server.pid
            calm = Editor(client, CALM, uri="file:///tmp/calm.py")
            assert texts(await asyncio.wait_for(calm.request(CALM_CURSOR, invoked=True), 10)) == [
                REPLY
            ]
            base_kb = memory_kb(pid, "VmRSS")

            hostile = Editor(client, HOSTILE, uri="file:///tmp/hostile.py")
            answer = hostile.request(HOSTILE_CURSOR, invoked=True)
            await until(lambda: len(model.hostile()) == 1, 5)
            # The timeout runs from the send, which the model server saw at once.
            sent = model.hostile()[0].arrived
            # The hostile answer is being read: another document asks meanwhile.
            await asyncio.sleep(0.2)
            cursor = calm.type(CALM_CURSOR, "a")
            asked = time.monotonic()
            calm_result = await asyncio.wait_for(calm.request(cursor, invoked=True), 10)
            calm_took = time.monotonic() - asked
            await asyncio.wait_for(answer, 30)
            answered = time.monotonic() - sent
            peak_mb = (memory_kb(pid, "VmHWM") - base_kb) / 1024

            # Shutdown while another hostile stream is in flight ("b": a key that parts from
            # the first stream, which may still be in the air after showing its first words).
            cursor = hostile.type(HOSTILE_CURSOR, "b")
            hostile.request(cursor, invoked=True)
            await until(lambda: len(model.hostile()) == 2, 5)
            await asyncio.sleep(0.2)
            stopping = time.monotonic()
            await asyncio.wait_for(client.shutdown_session(), 30)
            shutdown_took = time.monotonic() - stopping

    print(
        f"\n{scenario}: answered in {answered:.2f} s, another document in {calm_took:.3f} s, "
        f"peak RSS +{peak_mb:.1f} MB, shutdown {shutdown_took:.2f} s, "
        f"server wrote {model.hostile()[0].written} bytes"
    )
    assert texts(calm_result), "the other document got no suggestion"
    assert calm_took < CALM_WITHIN
    assert answered < TIMEOUT_MS / 1000 + MARGIN
    assert peak_mb < RSS_GROWTH_MB
    assert shutdown_took < SHUTDOWN_WITHIN


@pytest.mark.parametrize("scenario", ["error-drip", "sse-drip", "stall", "no-headers"])
async def test_a_keystroke_that_agrees_with_a_hung_stream_waits_no_longer_than_the_timeout(
    scenario: str,
) -> None:
    with HostileServer(scenario) as model:
        async with session(model.url) as client:
            hostile = Editor(client, HOSTILE, uri="file:///tmp/hostile.py")
            first = hostile.request(HOSTILE_CURSOR, invoked=True)
            await until(lambda: len(model.hostile()) == 1, 5)
            # The timeout runs from the send, which the model server saw at once.
            sent = model.hostile()[0].arrived
            await asyncio.sleep(0.3)
            # The user types what the stream began ("a + "), so the next request waits for it.
            cursor = hostile.type(HOSTILE_CURSOR, "a")
            second = hostile.request(cursor)
            await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 60)
            waited = time.monotonic() - sent
            await asyncio.wait_for(client.shutdown_session(), 30)
    print(f"\n{scenario}: the agreeing keystroke was answered {waited:.2f} s after the first send")
    assert waited < TIMEOUT_MS / 1000 + MARGIN
