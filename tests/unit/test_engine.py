"""The engine in-process: a fake backend whose streams the test drives, and a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import fim_lsp.engine
from fim_lsp.backends import (
    APIStatusError,
    AuthenticationError,
    Probe,
    RateLimitError,
    Rendered,
)
from fim_lsp.context import FimContext
from fim_lsp.documents import UTF32, Document
from fim_lsp.engine import Completion, Engine, inserted_at, partial_line
from fim_lsp.settings import Settings

URI = "file:///demo.py"
HEAD = "def add(a, b):\n    return "
TAIL = "\n"
END = object()


@dataclass
class Call:
    """One model call: the context it was for, and the items its stream will yield."""

    ctx: FimContext
    items: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def send(self, *items: Any) -> None:
        for item in items:
            self.items.put_nowait(item)


class FakeBackend:
    """A backend whose streams yield what the test sends; errors are raised where sent."""

    name = "fake"
    default_endpoint = "http://fake.invalid"
    default_model = "m"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.started = asyncio.Event()
        self.salt = 0

    def needs_key(self) -> bool:
        return True

    def key_hosts(self) -> frozenset[str]:
        return frozenset()

    def env_key(self, endpoint: str, env: Mapping[str, str]) -> tuple[str, str, str]:
        return endpoint, "", ""

    def missing_key_message(self, where: str) -> str:
        return "no key"

    def render(self, ctx: FimContext, settings: Settings) -> Rendered:
        # `salt` stands for what else is sent beside the prompt (other files' code).
        body = {"p": ctx.prompt, "s": ctx.suffix, "m": settings.model, "x": self.salt}
        return Rendered("http://fake.invalid/fim", body)

    def http_request(
        self, client: httpx.AsyncClient, rendered: Rendered, settings: Settings
    ) -> httpx.Request:
        return httpx.Request("POST", rendered.url, content=rendered.content)

    def stream(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        rendered: Rendered,
        settings: Settings,
        *,
        opened: Callable[[], None] | None = None,
        closed_early: Callable[[], None] | None = None,
    ) -> AsyncGenerator[str, None]:
        call = Call(FimContext(rendered.body["p"], rendered.body["s"]))
        self.calls.append(call)
        self.started.set()
        return self._run(call)

    async def _run(self, call: Call) -> AsyncGenerator[str, None]:
        try:
            while True:
                item = await call.items.get()
                if item is END:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            call.closed = True

    def translate_error(self, response: httpx.Response, raw: bytes, host: str) -> APIStatusError:
        raise NotImplementedError

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        return []

    async def touch(self, client: httpx.AsyncClient, settings: Settings) -> None:
        return None


class Reporter:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.logged: list[str] = []
        self.states: list[tuple[str, str]] = []

    def show_once(self, key: str, message: str, *, error: bool) -> None:
        self.shown.append(message)

    def log(self, message: str, *, error: bool) -> None:
        self.logged.append(message)

    def status(self, state: str, message: str = "") -> None:
        self.states.append((state, message))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {
        "api_key": "k",
        "endpoint": "http://fake.invalid",
        "debounce_ms": 0,
        "timeout_ms": 5000,
    }
    return Settings(**{**base, **changes})


def doc(typed: str = "", version: int = 1) -> Document:
    return Document.from_text(URI, HEAD + typed + TAIL, language_id="python", encoding=UTF32)


def ask(engine: Engine, typed: str = "") -> asyncio.Task[Any]:
    d = doc(typed)
    return asyncio.ensure_future(
        engine.complete(d, 1, len("    return ") + len(typed), invoked=False)
    )


async def next_call(backend: FakeBackend, count: int) -> Call:
    for _ in range(200):
        if len(backend.calls) >= count:
            return backend.calls[count - 1]
        await asyncio.sleep(0.005)
    raise AssertionError(f"no model call {count}")


@pytest.fixture
def parts() -> tuple[Engine, FakeBackend, Reporter, Clock]:
    backend = FakeBackend()
    reporter = Reporter()
    clock = Clock()
    engine = Engine(reporter, clock=clock, backends=lambda _name: backend)  # type: ignore[arg-type,return-value]
    engine.configure(settings())
    return engine, backend, reporter, clock


async def test_a_request_that_agrees_adopts_the_stream_within_the_grace(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + ")
    await asyncio.sleep(0.02)
    # The user typed "a": the next request (which supersedes the first) adopts the stream.
    second = ask(engine, "a")
    assert await asyncio.wait_for(first, 1) is None
    call.send("b", END)
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == " + b" and result.source == "model"
    assert len(backend.calls) == 1 and engine.upstream_calls == 1
    await engine.aclose()


async def test_an_unadopted_stream_is_closed_after_the_grace(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + ")
    await asyncio.sleep(0.02)
    first.cancel()  # VS Code cancels on a keystroke...
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.sleep(0.1)
    assert not call.closed, "within the grace the stream waits to be adopted"
    await asyncio.sleep(0.25)
    assert call.closed, "...and nobody asked again within the grace"
    # A request now is a new model call.
    third = ask(engine, "a")
    second_call = await next_call(backend, 2)
    second_call.send(" + b", END)
    result = await asyncio.wait_for(third, 1)
    assert result is not None and result.text == " + b"
    await engine.aclose()


async def test_divergence_mid_stream_ends_it_and_asks_again(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + ")
    await asyncio.sleep(0.02)
    # "x" disagrees with the "a + " already streamed.
    second = ask(engine, "x")
    assert await asyncio.wait_for(first, 1) is None
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "x"
    await asyncio.sleep(0.02)
    assert call.closed
    call2.send(" * 2", END)
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == " * 2"
    await engine.aclose()


async def test_typing_that_parts_from_an_adopted_stream_mid_way(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a")
    await asyncio.sleep(0.02)
    # "a+" agrees with "a" so far; the stream then says "a - b": they part.
    second = ask(engine, "a+")
    await asyncio.wait_for(first, 1)
    await asyncio.sleep(0.02)
    assert len(backend.calls) == 1
    call.send(" - b")
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "a+"
    call2.send(" b", END)
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == " b"
    await engine.aclose()


async def test_an_adopting_request_waits_no_longer_than_the_streams_deadline(parts) -> None:
    engine, backend, reporter, _clock = parts
    engine.configure(settings(timeout_ms=400))
    loop = asyncio.get_running_loop()
    first = ask(engine)
    call = await next_call(backend, 1)
    started = loop.time()
    call.send("a + ")  # ...then the stream hangs.
    await asyncio.sleep(0.2)
    second = ask(engine, "a")
    assert await asyncio.wait_for(first, 2) is None
    assert await asyncio.wait_for(second, 2) is None
    waited = loop.time() - started
    assert 0.3 < waited < 0.65, waited
    await asyncio.sleep(0.02)
    assert call.closed
    assert reporter.states[-1][0] == "error" and "within 0.4 s" in reporter.states[-1][1]
    await engine.aclose()


def rate_limited(retry_after: float | None) -> RateLimitError:
    return RateLimitError(
        "h is rate limiting requests (429: slow down)",
        retry_after=retry_after,
        status_code=429,
        body={},
        request_id=None,
        host="h",
    )


async def fail_once(engine: Engine, backend: FakeBackend, err: Exception, typed: str) -> None:
    task = ask(engine, typed)
    call = await next_call(backend, len(backend.calls) + 1)
    call.send(err)
    assert await asyncio.wait_for(task, 1) is None


async def test_backoff_doubles_after_each_429_without_retry_after(parts) -> None:
    engine, backend, reporter, clock = parts
    waits = []
    for i in range(6):
        await fail_once(engine, backend, rate_limited(None), f"{i}")
        waits.append(engine.gate.blocked_until - clock.now)
        # Paused: no model call while the backoff runs.
        calls = len(backend.calls)
        assert await asyncio.wait_for(ask(engine, f"{i}z"), 1) is None
        assert len(backend.calls) == calls
        clock.now += waits[-1] + 0.01
    assert waits == [1, 2, 4, 8, 16, 30]
    assert reporter.states[-1] == ("error", "rate limited: suggestions resume in 30 s")
    await engine.aclose()


async def test_retry_after_is_capped_and_a_settings_change_lifts_it(parts) -> None:
    engine, backend, reporter, clock = parts
    await fail_once(engine, backend, rate_limited(1e9), "a")
    assert engine.gate.blocked_until - clock.now == 60
    assert reporter.states[-1] == ("error", "rate limited: suggestions resume in 60 s")
    assert engine.gate.paused()
    engine.configure(settings(max_tokens=99))
    assert not engine.gate.paused()
    await engine.aclose()


async def test_a_rejected_key_pauses_until_the_settings_change(parts) -> None:
    engine, backend, reporter, _clock = parts
    err = AuthenticationError(
        "h rejected the API key (401: Unauthorized)",
        status_code=401,
        body={},
        request_id=None,
        host="h",
        hint="Use the right host.",
    )
    await fail_once(engine, backend, err, "a")
    assert any("Use the right host." in m and "paused" in m for m in reporter.shown)
    assert await asyncio.wait_for(ask(engine, "b"), 1) is None
    assert len(backend.calls) == 1, "no call while the key is known to be rejected"
    engine.configure(settings(api_key="k2"))
    task = ask(engine, "b")
    call = await next_call(backend, 2)
    call.send(" + 1", END)
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == " + 1"
    await engine.aclose()


async def test_the_cache_key_is_the_rendered_request(parts) -> None:
    engine, backend, _reporter, _clock = parts
    task = ask(engine, "a")
    call = await next_call(backend, 1)
    call.send(" + b", END)
    assert (await asyncio.wait_for(task, 1)).source == "model"
    again = await asyncio.wait_for(ask(engine, "a"), 1)
    assert again is not None and again.source in ("cache", "typed")
    # Another model renders another request: not served from the cache.
    engine.configure(settings(model="other"))
    engine.recent.forget(URI)
    task = ask(engine, "a")
    call = await next_call(backend, 2)
    call.send(" + c", END)
    assert (await asyncio.wait_for(task, 1)).text == " + c"
    await engine.aclose()


# -- the speculative next suggestion after an accept -------------------------------------------

COLUMN = len("    return ")


def version(typed: str, number: int) -> Document:
    return Document.from_text(
        URI, HEAD + typed + TAIL, version=number, language_id="python", encoding=UTF32
    )


async def first_answer(engine: Engine, backend: FakeBackend, text: str) -> Any:
    """Answer one request at the end of HEAD with `text`, then make the debounce long."""
    d = version("", 1)
    task = asyncio.ensure_future(engine.complete(d, 1, COLUMN, invoked=False))
    call = await next_call(backend, 1)
    call.send(text, END)
    shown = await asyncio.wait_for(task, 1)
    assert shown is not None and shown.text == text
    # From here a request that calls the model waits 5 s first: an answer within a second came
    # from the speculative call.
    engine.configure(settings(debounce_ms=5000, adaptive_debounce=False))
    return shown


async def test_an_accept_before_the_edit_asks_for_the_continuation_at_once(parts) -> None:
    engine, backend, _reporter, _clock = parts
    shown = await first_answer(engine, backend, "a + b")
    # The accept command arrives before the edit's didChange: the document is still as shown.
    engine.accepted(version("", 1), shown)
    call = await next_call(backend, 2)
    assert call.ctx.prompt == HEAD + "a + b"
    call.send("  # the sum", END)
    after = version("a + b", 2)
    result = await asyncio.wait_for(
        engine.complete(after, 1, COLUMN + len("a + b"), invoked=False), 1
    )
    assert result is not None and result.text == "  # the sum"
    assert len(backend.calls) == 2 and engine.speculations == 1
    await engine.aclose()


async def test_an_edit_that_inserts_the_suggestion_starts_the_next_call(parts) -> None:
    engine, backend, _reporter, _clock = parts
    shown = await first_answer(engine, backend, "a + b")
    after = version("a + b", 2)
    engine.on_edit(after, 1)
    call = await next_call(backend, 2)
    assert call.ctx.prompt == HEAD + "a + b"
    # The editor's request comes while the stream runs: it adopts it, no debounce.
    asking = asyncio.ensure_future(engine.complete(after, 1, COLUMN + len("a + b"), invoked=False))
    await asyncio.sleep(0.02)
    call.send("  # the", " sum", END)
    result = await asyncio.wait_for(asking, 1)
    assert result is not None and result.text == "  # the sum" and result.source == "model"
    # The accept command that follows the edit asks for nothing more.
    engine.accepted(after, shown)
    await asyncio.sleep(0.02)
    assert len(backend.calls) == 2
    await engine.aclose()


async def test_a_request_in_its_debounce_adopts_the_speculative_call(parts) -> None:
    engine, backend, _reporter, _clock = parts
    shown = await first_answer(engine, backend, "a + b")
    after = version("a + b", 2)
    # The request comes first (no edit seen as an accept), then the accept command.
    asking = asyncio.ensure_future(engine.complete(after, 1, COLUMN + len("a + b"), invoked=False))
    await asyncio.sleep(0.02)
    assert len(backend.calls) == 1, "the request waits out its 5 s debounce"
    engine.accepted(after, shown)
    call = await next_call(backend, 2)
    call.send("  # the sum", END)
    result = await asyncio.wait_for(asking, 1)
    assert result is not None and result.text == "  # the sum"
    await asyncio.sleep(0.02)
    assert len(backend.calls) == 2
    await engine.aclose()


async def test_no_speculation_for_other_edits_a_partial_accept_or_when_off(parts) -> None:
    engine, backend, _reporter, _clock = parts
    shown = await first_answer(engine, backend, "a + b")
    engine.on_edit(version("a - b", 2), 1)  # typed something else
    engine.accepted(version("", 1), shown, length=2)  # one word of it: the rest stays shown
    engine.configure(settings(speculate_after_accept=False))
    engine.accepted(version("a + b", 3), shown)
    await asyncio.sleep(0.05)
    assert len(backend.calls) == 1 and engine.speculations == 0
    await engine.aclose()


async def test_a_paste_that_starts_with_the_suggestion_is_no_accept(parts) -> None:
    engine, backend, _reporter, _clock = parts
    await first_answer(engine, backend, "a + b")
    pasted = "a + b\n\n\ndef sub(a, b):\n    return a - b"
    # The line reads as if the suggestion were taken, but the cursor is past the paste.
    engine.on_edit(version(pasted, 2), 1, inserted=len(pasted))
    await asyncio.sleep(0.05)
    assert len(backend.calls) == 1 and engine.speculations == 0
    await engine.aclose()


def test_a_multi_line_accept_in_a_crlf_file_is_an_accept_and_more_is_a_paste() -> None:
    # The editor inserts the suggestion's line break as the file's \r\n: one more character.
    completion = Completion("x = 1\n    return x", 1, 4, 4, "model")
    doc = Document.from_text("file:///crlf.py", "def f():\r\n    x = 1\r\n    return x\r\n")
    inserted = len("x = 1\r\n    return x")
    assert inserted_at(doc, completion, "", inserted) == (2, 12)
    assert inserted_at(doc, completion, "", None) == (2, 12)
    # One character more than the suggestion and its \r\n: the cursor is past it.
    assert inserted_at(doc, completion, "", inserted + 1) is None
    # The line after it changed: not what was shown.
    assert inserted_at(doc, completion, ")", inserted) is None


async def test_typing_a_suggestion_through_asks_ahead_for_what_follows_it(parts) -> None:
    engine, backend, _reporter, _clock = parts
    await first_answer(engine, backend, "a + b")
    # The user types the suggestion's first key: the rest is typed through, and the call for
    # what follows the suggestion's end starts now, as if it were accepted.
    typed = await asyncio.wait_for(
        engine.complete(version("a", 2), 1, COLUMN + 1, invoked=False), 1
    )
    assert typed is not None and typed.text == " + b" and typed.source == "typed"
    call = await next_call(backend, 2)
    assert call.ctx.prompt == HEAD + "a + b" and call.ctx.suffix == TAIL
    # The next keys type through the same suggestion: no more calls.
    typed = await asyncio.wait_for(
        engine.complete(version("a +", 3), 1, COLUMN + 3, invoked=False), 1
    )
    assert typed is not None and typed.text == " b"
    call.send("  # the sum", END)
    # The pause at its end finds the next suggestion there, with no call of its own.
    at_end = await asyncio.wait_for(
        engine.complete(version("a + b", 4), 1, COLUMN + 5, invoked=False), 1
    )
    assert at_end is not None and at_end.text == "  # the sum"
    assert len(backend.calls) == 2 and engine.speculations == 1
    await engine.aclose()


async def test_nothing_is_asked_ahead_while_the_stream_is_in_the_air(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b\n")
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    # The stream reads on: it may yet say what follows the suggestion, so no call is made...
    typed = await asyncio.wait_for(engine.complete(doc("a"), 1, COLUMN + 1, invoked=False), 1)
    assert typed is not None and typed.text == " + b" and typed.source == "typed"
    await asyncio.sleep(0.05)
    assert len(backend.calls) == 1
    # ...until it has ended having said nothing more: the next key asks ahead.
    call.send(END)
    await asyncio.sleep(0.02)
    typed = await asyncio.wait_for(engine.complete(doc("a +"), 1, COLUMN + 3, invoked=False), 1)
    assert typed is not None and typed.text == " b"
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "a + b"
    await engine.aclose()


async def test_nothing_is_asked_ahead_when_the_stream_read_on_past_the_suggestion(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF, "    return a - b\n", END)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    await asyncio.sleep(0.02)
    typed = await asyncio.wait_for(engine.complete(doc("a"), 1, COLUMN + 1, invoked=False), 1)
    assert typed is not None and typed.text == " + b" and typed.source == "typed"
    await asyncio.sleep(0.05)
    assert len(backend.calls) == 1 and engine.speculations == 0
    await engine.aclose()


async def test_an_accept_where_the_call_ahead_said_nothing_asks_no_more(parts) -> None:
    engine, backend, _reporter, _clock = parts
    await first_answer(engine, backend, "a + b")
    typed = await asyncio.wait_for(
        engine.complete(version("a", 2), 1, COLUMN + 1, invoked=False), 1
    )
    assert typed is not None and typed.text == " + b"
    ahead = await next_call(backend, 2)
    assert ahead.ctx.prompt == HEAD + "a + b"
    ahead.send(END)  # the model has nothing to add at the suggestion's end
    await asyncio.sleep(0.02)
    # The code from other files sent with a prompt changed since: the cache has no entry for
    # the cursor after the suggestion, but the call ahead was made for that very cursor.
    backend.salt = 1
    after = version("a + b", 3)
    engine.accepted(after, typed)
    at_end = await asyncio.wait_for(
        engine.complete(after, 1, COLUMN + len("a + b"), invoked=False), 1
    )
    assert at_end is None
    assert len(backend.calls) == 2 and engine.speculations == 1
    await engine.aclose()


async def test_no_call_ahead_of_a_suggestion_typed_through_when_speculation_is_off(parts) -> None:
    engine, backend, _reporter, _clock = parts
    await first_answer(engine, backend, "a + b")
    engine.configure(
        settings(debounce_ms=5000, adaptive_debounce=False, speculate_after_accept=False)
    )
    typed = await asyncio.wait_for(
        engine.complete(version("a", 2), 1, COLUMN + 1, invoked=False), 1
    )
    assert typed is not None and typed.text == " + b"
    await asyncio.sleep(0.05)
    assert len(backend.calls) == 1 and engine.speculations == 0
    await engine.aclose()


# -- a line cleared by a deletion ---------------------------------------------------------------

CLEARED = "def add(a, b):\n    \n    return total\n"


def lines_doc(text: str, number: int) -> Document:
    return Document.from_text(URI, text, version=number, language_id="python", encoding=UTF32)


async def test_a_deletion_that_clears_a_line_asks_at_once_and_the_first_key_joins_it(
    parts,
) -> None:
    engine, backend, _reporter, _clock = parts
    # A long debounce: an answer within a second came from the call made at the deletion.
    engine.configure(settings(debounce_ms=5000))
    cleared = lines_doc(CLEARED, 2)
    engine.on_edit(cleared, 1, deleted_at=(1, 4))
    call = await next_call(backend, 1)
    assert call.ctx.prompt == "def add(a, b):\n    " and call.ctx.suffix == "\n    return total\n"
    assert engine.speculations == 1
    # The user types the line's first key: its request joins the stream, no call of its own.
    typed = lines_doc("def add(a, b):\n    t\n    return total\n", 3)
    engine.on_edit(typed, 1)
    asking = asyncio.ensure_future(engine.complete(typed, 1, 5, invoked=False))
    await asyncio.sleep(0.02)
    call.send("total = a + b", END)
    result = await asyncio.wait_for(asking, 1)
    assert result is not None and result.text == "otal = a + b" and result.source == "model"
    assert len(backend.calls) == 1
    await engine.aclose()


async def test_no_call_for_a_deletion_that_leaves_text_or_clears_all_or_when_off(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(debounce_ms=5000))
    # A word deleted, text stays on the line.
    engine.on_edit(lines_doc("def add(a, b):\n    total = a\n    return total\n", 2), 1, (1, 13))
    # The blank line's indentation deleted from its start: the cursor is not at the line's end.
    engine.on_edit(lines_doc("def add(a, b):\n  \n    return total\n", 3), 1, (1, 0))
    # The whole document cleared.
    engine.on_edit(lines_doc("", 4), 0, (0, 0))
    # Working ahead off, or a fixed debounce: the line cleared waits for the editor's request.
    for off in (settings(debounce_ms=5000, work_ahead=False), settings(adaptive_debounce=False)):
        engine.configure(off)
        engine.on_edit(lines_doc(CLEARED, 5), 1, (1, 4))
    await asyncio.sleep(0.05)
    assert backend.calls == [] and engine.speculations == 0
    await engine.aclose()


# -- the first line as soon as it is complete --------------------------------------------------

BODY = "def add(a, b):\n    "


def body_doc(typed: str = "") -> Document:
    return Document.from_text(URI, BODY + typed, language_id="python", encoding=UTF32)


async def test_the_first_line_is_shown_while_the_rest_streams_on(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(early_first_line=True))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a", " + b\n", "    ret")
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b"
    await asyncio.sleep(0.3)
    assert not call.closed, "the stream reads on past the grace for the multi-line answer"
    call.send("urn total\n", END)
    await asyncio.sleep(0.02)
    assert call.closed
    # Typing through the first line, the rest of the multi-line answer; no new call.
    d = body_doc("total = a + b")
    rest = await asyncio.wait_for(engine.complete(d, 1, 4 + len("total = a + b"), invoked=False), 1)
    assert rest is not None and rest.text == "\n    return total"
    assert rest.source == "typed"
    # The one other call asks ahead, for what follows the answer's end.
    assert (
        len(backend.calls) == 2
        and backend.calls[1].ctx.prompt == BODY + "total = a + b\n    return total"
    )
    # Back at the pause: the cache has the whole answer.
    again = await asyncio.wait_for(engine.complete(body_doc(), 1, 4, invoked=False), 1)
    assert again is not None and again.text == "total = a + b\n    return total"
    await engine.aclose()


async def test_typing_through_the_first_line_while_it_streams(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(early_first_line=True))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b\n")
    assert (await asyncio.wait_for(task, 1)).text == "total = a + b"
    d = body_doc("tot")
    typed = await asyncio.wait_for(engine.complete(d, 1, 7, invoked=False), 1)
    assert typed is not None and typed.text == "al = a + b" and typed.source == "typed"
    call.send(END)
    await engine.aclose()


async def test_without_early_first_line_the_whole_answer_is_waited_for(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(early_first_line=False))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b\n")
    await asyncio.sleep(0.05)
    assert not task.done()
    call.send("    return total\n", END)
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b\n    return total"
    await engine.aclose()


async def test_a_whole_answer_within_the_first_line_budget_is_shown_whole(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(first_line_ms=400))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b\n")
    await asyncio.sleep(0.1)
    assert not task.done(), "within the budget the first line alone is not the answer"
    call.send("    return total\n", END)
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b\n    return total"
    await engine.aclose()


async def test_past_the_budget_an_adopted_stream_answers_with_its_first_line(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(first_line_ms=50))
    first = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a")
    await asyncio.sleep(0.02)
    # The user typed ahead, along the stream: this request joins it.
    second = asyncio.ensure_future(engine.complete(body_doc("tot"), 1, 7, invoked=False))
    assert await asyncio.wait_for(first, 1) is None
    call.send(" + b\n", "    ret")
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == "al = a + b" and result.source == "model"
    assert len(backend.calls) == 1
    call.send("urn total\n", END)
    await asyncio.sleep(0.02)
    assert call.closed
    d = body_doc("total = a + b")
    rest = await asyncio.wait_for(engine.complete(d, 1, 4 + len("total = a + b"), invoked=False), 1)
    assert rest is not None and rest.text == "\n    return total"
    assert len(backend.calls) == 2 and backend.calls[1].ctx.prompt.endswith("return total")
    await engine.aclose()


async def test_typing_all_that_a_stream_said_asks_the_model_again(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine, "x")
    call = await next_call(backend, 1)
    second = ask(engine, "x+")  # joins the stream, which has said nothing yet
    assert await asyncio.wait_for(first, 1) is None
    call.send("+", END)  # the stream's whole answer is what the user has just typed
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "x+"
    call2.send(" 1", END)
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == " 1"
    await engine.aclose()


def learn_rhythm(engine: Engine, clock: Clock, gap: float = 0.1) -> None:
    for _ in range(10):
        clock.now += gap
        engine.on_edit(doc(), 1)


@pytest.mark.parametrize(
    ("typed", "work_ahead", "at_once"),
    [
        ("add(", True, True),  # after punctuation
        ("add", True, True),  # a word the file already holds
        ("zq", True, False),  # inside a new word: the usual debounce
        ("add(", False, False),  # work ahead off: the debounce everywhere
    ],
)
async def test_where_a_pause_is_likely_the_call_starts_without_a_debounce(
    parts, typed: str, work_ahead: bool, at_once: bool
) -> None:
    engine, backend, _reporter, clock = parts
    engine.configure(settings(debounce_ms=75, work_ahead=work_ahead))
    learn_rhythm(engine, clock)
    task = ask(engine, typed)
    await asyncio.sleep(0.04)  # the learnt debounce is 90 ms or more at every spot
    assert (len(backend.calls) == 1) is at_once
    await next_call(backend, 1)
    backend.calls[0].send(END)
    await asyncio.wait_for(task, 1)
    await engine.aclose()


@pytest.mark.parametrize(
    ("settled", "at_once"),
    [
        (False, True),  # found wrong by its first words: it was working ahead, replaced now
        (True, False),  # a suggestion the user types over: the usual debounce
    ],
)
async def test_a_stream_the_typing_parts_from_before_its_answer_is_replaced_at_once(
    parts, settled: bool, at_once: bool
) -> None:
    engine, backend, _reporter, clock = parts
    engine.configure(settings(debounce_ms=75))
    learn_rhythm(engine, clock)
    first = ask(engine, "add(")
    call = await next_call(backend, 1)
    call.send("a, b", *([")", END] if settled else []))
    if settled:
        assert (await asyncio.wait_for(first, 1)).text == "a, b)"
    await asyncio.sleep(0.02)
    # "zq" (inside a new word, where the debounce is 90 ms or more) parts from "a, b".
    second = ask(engine, "add(zq")
    await asyncio.sleep(0.04)
    assert (len(backend.calls) == 2) is at_once
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "add(zq"
    call2.send(END)
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    await engine.aclose()


@pytest.mark.parametrize(("rest", "told"), [("    return total\n", True), ("", False)])
async def test_the_editor_is_told_when_a_first_lines_block_is_complete(
    parts, rest: str, told: bool
) -> None:
    engine, backend, _reporter, _clock = parts
    ready: list[tuple[str, int]] = []
    engine.block_ready = lambda uri, version: ready.append((uri, version))
    engine.configure(settings(first_line_ms=0))
    d = body_doc()
    task = asyncio.ensure_future(engine.complete(d, 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b\n")
    assert (await asyncio.wait_for(task, 1)).text == "total = a + b"
    assert ready == []
    call.send(rest, END)
    await asyncio.sleep(0.02)
    assert ready == ([(URI, d.version)] if told else [])
    await engine.aclose()


@pytest.mark.parametrize(
    ("streamed", "shown"),
    [
        ("self._check_signal(s", "self._check_signal("),  # the last word may still grow
        ("get_chi", None),  # one word, not known to be whole
        ("x =", "x ="),
        (" =", None),  # too little to show
        ("\n    def _call_conn", "\n    def "),  # at a line's end: the next line's words
        ("\n\n", None),
        ("total = a + b\n    ret", None),  # the first line is complete: shown whole
        ('"""Get the watcher for child pr', '"""Get the watcher for child '),
    ],
)
def test_what_is_shown_of_a_first_line_still_streaming(streamed: str, shown: str | None) -> None:
    assert partial_line(streamed) == shown


async def test_past_the_budget_a_slow_first_line_shows_its_words_and_the_editor_asks_again(
    parts,
) -> None:
    engine, backend, _reporter, _clock = parts
    ready: list[tuple[str, int]] = []
    engine.block_ready = lambda uri, version: ready.append((uri, version))
    engine.configure(settings(first_line_ms=50))
    d = body_doc()
    task = asyncio.ensure_future(engine.complete(d, 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b_o")
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + " and result.source == "model"
    call.send("ther * c")
    await asyncio.sleep(0.02)
    assert ready == [], "the line is not complete yet"
    # Typing through the words shown: the stream's words since, not what is left of those shown.
    typed = await asyncio.wait_for(engine.complete(body_doc("tot"), 1, 7, invoked=False), 1)
    assert typed is not None and typed.text == "al = a + b_other * " and typed.source == "model"
    call.send(" + d")
    await asyncio.sleep(0.02)
    typed = await asyncio.wait_for(engine.complete(body_doc("total"), 1, 9, invoked=False), 1)
    assert typed is not None and typed.text == " = a + b_other * c + " and typed.source == "model"
    call.send("\n")
    await asyncio.sleep(0.02)
    assert ready == [(URI, d.version)]
    # Asked again at that version: the whole line at once, with no new budget (a long one here;
    # set in place, as configuring anew would end the stream).
    engine.settings = dataclasses.replace(engine.settings, first_line_ms=5000)
    again = await asyncio.wait_for(engine.complete(d, 1, 4, invoked=False), 0.5)
    assert again is not None and again.text == "total = a + b_other * c + d"
    call.send("    return total\n", END)
    await asyncio.sleep(0.02)
    assert ready == [(URI, d.version)] * 2, "and again when the block is complete"
    assert len(backend.calls) <= 2  # the other one asks ahead, after the answer's end
    await engine.aclose()


async def test_a_line_that_comes_a_moment_after_its_first_words_is_shown_whole(
    parts, monkeypatch
) -> None:
    engine, backend, _reporter, _clock = parts
    monkeypatch.setattr(fim_lsp.engine, "WORDS_HOLD", 5.0)
    engine.configure(settings(first_line_ms=0))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b_o")
    await asyncio.sleep(0.05)
    assert not task.done(), "the words wait for their line while the model has just begun"
    call.send("ther\n", "    ret")
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b_other"
    await engine.aclose()


async def test_the_budget_runs_from_the_start_of_a_call_made_ahead_of_the_request(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(first_line_ms=200))
    first = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    await asyncio.sleep(0.25)  # the call has used up the budget before the next key comes
    second = asyncio.ensure_future(engine.complete(body_doc("tot"), 1, 7, invoked=False))
    assert await asyncio.wait_for(first, 1) is None
    call.send("total = a + b\n")
    sent = asyncio.get_running_loop().time()
    result = await asyncio.wait_for(second, 1)
    assert result is not None and result.text == "al = a + b"
    assert asyncio.get_running_loop().time() - sent < 0.15, "no new budget from the request"
    call.send("    return total\n", END)
    await engine.aclose()


@pytest.mark.parametrize("off", [{"partial_first_line": False}, {"early_first_line": False}])
async def test_without_partial_first_lines_the_words_are_not_shown(parts, off) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(first_line_ms=0, **off))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False))
    call = await next_call(backend, 1)
    call.send("total = a + b_o")
    await asyncio.sleep(0.05)
    assert not task.done()
    call.send("ther\n", END)
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b_other"
    await engine.aclose()


async def test_a_completion_item_waits_for_the_whole_first_line(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(first_line_ms=0))
    task = asyncio.ensure_future(engine.complete(body_doc(), 1, 4, invoked=False, ghost=False))
    call = await next_call(backend, 1)
    call.send("total = a + b_o")
    await asyncio.sleep(0.05)
    assert not task.done()
    call.send("ther\n", "    ret")
    result = await asyncio.wait_for(task, 1)
    assert result is not None and result.text == "total = a + b_other"
    call.send("urn total\n", END)
    await engine.aclose()


# -- reading on past the answer ----------------------------------------------------------------

NEXT_DEF = "\n\ndef sub(a, b):\n"


def at_next_line(engine: Engine, typed: str) -> asyncio.Task[Any]:
    """A request on the line after `return <typed>`, where the user pressed Enter."""
    d = doc(typed + "\n")
    return asyncio.ensure_future(engine.complete(d, 2, 0, invoked=False))


async def test_the_stream_reads_on_past_its_answer_for_the_next_line(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF)
    # The dedent ends the answer; the stream reads on for the lines after it.
    result = await asyncio.wait_for(first, 1)
    assert result is not None and result.text == "a + b"
    await asyncio.sleep(0.3)
    assert not call.closed, "past its answer, the stream reads on (nobody waits, no grace)"
    call.send("    return a - b\n", END)
    await asyncio.sleep(0.02)
    # The user typed the answer and pressed Enter: what the model said next, with no new call.
    after = await asyncio.wait_for(at_next_line(engine, "a + b"), 1)
    assert after is not None and after.text.lstrip("\n") == "def sub(a, b):\n    return a - b"
    assert after.source == "model" and len(backend.calls) == 1
    # Typing through it is typing through an answer like any other.
    d = Document.from_text(URI, HEAD + "a + b\ndef s" + TAIL, language_id="python", encoding=UTF32)
    typed = await asyncio.wait_for(engine.complete(d, 2, 5, invoked=False), 1)
    assert typed is not None and typed.text.startswith("ub(a, b):") and typed.source == "typed"
    # The stream has ended: typing into what it said asks ahead, for what follows it.
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "a + b\ndef sub(a, b):\n    return a - b"
    await engine.aclose()


async def test_a_request_past_the_answer_waits_for_the_lines_read_on(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    after = at_next_line(engine, "a + b")
    await asyncio.sleep(0.05)
    assert not after.done(), "the block after the answer is not complete yet"
    call.send("    return a - b\n", END)
    result = await asyncio.wait_for(after, 1)
    assert result is not None and result.text.lstrip("\n") == "def sub(a, b):\n    return a - b"
    assert len(backend.calls) == 1
    await engine.aclose()


async def test_reading_on_stops_after_read_on_lines(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(read_on_lines=2))
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    call.send("    c = a - b\n")
    await asyncio.sleep(0.02)
    assert not call.closed
    call.send("    return c\n")
    await asyncio.sleep(0.02)
    assert call.closed, "two lines after the answer's end are all that is read"
    await engine.aclose()


async def test_without_reading_on_only_the_line_that_ended_the_answer_is_known(parts) -> None:
    engine, backend, _reporter, _clock = parts
    engine.configure(settings(read_on_lines=0))
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    await asyncio.sleep(0.02)
    assert call.closed, "the stream stops at its answer's end"
    call.send("    return a - b\n", END)
    after = await asyncio.wait_for(at_next_line(engine, "a + b"), 1)
    assert after is not None and after.text.lstrip("\n") == "def sub(a, b):"
    assert len(backend.calls) == 1
    await engine.aclose()


async def test_a_settings_change_forgets_what_the_streams_said(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF, "    return a - b\n", END)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    engine.configure(settings(model="other"))
    after = at_next_line(engine, "a + b")
    call2 = await next_call(backend, 2)
    call2.send("pass\n", END)
    result = await asyncio.wait_for(after, 1)
    assert result is not None and result.text == "pass"
    await engine.aclose()


async def test_an_accept_at_the_blocks_end_uses_what_the_stream_read_on(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF, "    return a - b\n", END)
    shown = await asyncio.wait_for(first, 1)
    assert shown is not None and shown.text == "a + b"
    # Accepted: the model has already said what follows, so no call is made for it...
    after = version("a + b", 2)
    engine.on_edit(after, 1)
    engine.accepted(after, shown)
    at_end = await asyncio.wait_for(engine.complete(after, 1, COLUMN + 5, invoked=False), 1)
    # ...the block ends here (nothing to show at the end of the line), and on the next line
    # the next definition comes from memory.
    assert at_end is None
    below = await asyncio.wait_for(at_next_line(engine, "a + b"), 1)
    assert below is not None and below.text.lstrip("\n").startswith("def sub(a, b):")
    assert len(backend.calls) == 1
    await engine.aclose()


async def test_typing_past_all_that_was_read_on_asks_the_model_again(parts) -> None:
    engine, backend, _reporter, _clock = parts
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b\n", END)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    below = at_next_line(engine, "a + b")
    call2 = await next_call(backend, 2)
    assert call2.ctx.prompt == HEAD + "a + b\n"
    call2.send("print(add(1, 2))\n", END)
    result = await asyncio.wait_for(below, 1)
    assert result is not None and result.text == "print(add(1, 2))"
    await engine.aclose()


async def test_the_editor_is_told_when_the_block_read_on_is_complete(parts) -> None:
    engine, backend, _reporter, _clock = parts
    ready: list[tuple[str, int]] = []
    engine.block_ready = lambda uri, version: ready.append((uri, version))
    engine.configure(settings(first_line_ms=0))
    first = ask(engine)
    call = await next_call(backend, 1)
    call.send("a + b", NEXT_DEF)
    assert (await asyncio.wait_for(first, 1)).text == "a + b"
    # Past the answer, with only the next definition's first line read on: that line is shown...
    line = await asyncio.wait_for(at_next_line(engine, "a + b"), 1)
    assert line is not None and line.text.lstrip("\n") == "def sub(a, b):"
    assert ready == []
    # ...and when the stream ends the editor is told to ask again: the whole block is there.
    call.send("    return a - b\n", END)
    await asyncio.sleep(0.02)
    assert ready == [(URI, doc("a + b\n").version)]
    block = await asyncio.wait_for(at_next_line(engine, "a + b"), 1)
    assert block is not None and block.text.lstrip("\n") == "def sub(a, b):\n    return a - b"
    assert len(backend.calls) == 1
    await engine.aclose()
