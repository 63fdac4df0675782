"""Model servers that misbehave on purpose, on 127.0.0.1: bombs, floods, drips and hangs.

`HostileServer` speaks HTTP/1.1 over raw asyncio sockets on its own thread. A request whose
prompt contains HOSTILE gets the scenario's misbehaviour; any other gets the documented
Codestral stream of REPLY, so a test can check that other requests are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

MARK = "HOSTILE"
REPLY = "a + b"
# What a client gets at most before the server stops writing (a guard for the tests' machine).
_MAX_WRITE = 2 << 30


def gzip_repeated(block: bytes, count: int) -> Iterator[bytes]:
    """A gzip body of `block` repeated `count` times, made in constant memory and time per block.

    After a full flush deflate starts afresh, so every later block compresses to the same
    bytes: 1 GB of zeros is ~1 MB of gzip made in milliseconds. No trailer is sent (the body
    is cut off, as a client stopping at its bound never reads that far).
    """
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    yield first
    for _ in range(count - 1):
        yield again


def sse_event(content: str, finish: str | None = None) -> bytes:
    """One Codestral stream event with a content delta."""
    event = {
        "id": "hostile",
        "object": "chat.completion.chunk",
        "model": "codestral-latest",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def head(status: int, headers: dict[str, str]) -> bytes:
    """A status line and headers."""
    lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(data: bytes) -> bytes:
    """One chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


SSE = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass
class Seen:
    """A request as the server saw it."""

    prompt: str
    hostile: bool
    arrived: float
    # Bytes of body the server managed to write before the client went away (or it ended).
    written: int = 0
    ended: float | None = None


Scenario = Callable[["Writer"], Awaitable[None]]


@dataclass
class Writer:
    """The connection's writer, counting what reaches the socket."""

    stream: asyncio.StreamWriter
    seen: Seen

    async def send(self, data: bytes) -> None:
        self.stream.write(data)
        await self.stream.drain()
        self.seen.written += len(data)
        if self.seen.written > _MAX_WRITE:
            raise ConnectionError("the client read far more than any bound allows")


async def gzip_comments(w: Writer) -> None:
    """5.9 KB of gzip that inflates to 3 MB of SSE comment lines, sent at once."""
    body = zlib.compress(b": keep-alive\n" * 230_000, 9, wbits=31)
    await w.send(head(200, {**SSE, "Content-Encoding": "gzip", "Content-Length": str(len(body))}))
    await w.send(body)


async def gzip_bomb(w: Writer) -> None:
    """1 GB of zeros (no line end anywhere) in ~1 MB of gzip, chunked."""
    await _send_gzip_gigabyte(w, b"\0" * (1 << 20))


async def gzip_comments_1gb(w: Writer) -> None:
    """1 GB of SSE comment lines (half a billion of them) in ~1 MB of gzip, chunked."""
    await _send_gzip_gigabyte(w, b":\n" * (1 << 19))


async def _send_gzip_gigabyte(w: Writer, block: bytes) -> None:
    await w.send(head(200, {**SSE, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}))
    batch: list[bytes] = []
    for part in gzip_repeated(block, 1024):
        batch.append(part)
        if len(batch) == 32:
            await w.send(chunked(b"".join(batch)))
            batch = []
    if batch:
        await w.send(chunked(b"".join(batch)))
    await w.send(b"0\r\n\r\n")


async def error_100mb(w: Writer) -> None:
    """A 500 whose body is 100 MB."""
    size = 100 << 20
    await w.send(head(500, {"Content-Type": "text/plain", "Content-Length": str(size)}))
    block = b"x" * (1 << 20)
    for _ in range(size // len(block)):
        await w.send(block)


async def error_drip(w: Writer) -> None:
    """A 500 whose body drips one byte a second."""
    body = b'{"message": "internal error, slowly"}'
    await w.send(head(500, {"Content-Type": "application/json", "Content-Length": str(len(body))}))
    for i in range(len(body)):
        await w.send(body[i : i + 1])
        await asyncio.sleep(1)


async def no_headers(w: Writer) -> None:
    """The request is read, and nothing ever comes back."""
    await asyncio.sleep(3600)


async def long_line(w: Writer) -> None:
    """One 10 MB SSE line: a data field that never ends until 10 MB later."""
    await w.send(head(200, {**SSE, "Transfer-Encoding": "chunked"}))
    await w.send(chunked(b"data: "))
    block = b"a" * (1 << 20)
    for _ in range(10):
        await w.send(chunked(block))
    await w.send(chunked(b"\n\n") + b"0\r\n\r\n")


async def stall(w: Writer) -> None:
    """A stream that starts an answer, stops mid-way and hangs with the connection open."""
    await w.send(head(200, {**SSE, "Transfer-Encoding": "chunked"}))
    await w.send(chunked(sse_event("a + ")))
    await asyncio.sleep(3600)


async def sse_drip(w: Writer) -> None:
    """A stream that starts an answer, then drips a keep-alive comment one byte a second."""
    await w.send(head(200, {**SSE, "Transfer-Encoding": "chunked"}))
    await w.send(chunked(sse_event("a + ")))
    while True:
        for byte in b":\n":
            await asyncio.sleep(1)
            await w.send(chunked(bytes([byte])))


SCENARIOS: dict[str, Scenario] = {
    "gzip-comments": gzip_comments,
    "gzip-bomb": gzip_bomb,
    "gzip-comments-1gb": gzip_comments_1gb,
    "error-100mb": error_100mb,
    "error-drip": error_drip,
    "no-headers": no_headers,
    "long-line": long_line,
    "stall": stall,
    "sse-drip": sse_drip,
}


@dataclass
class HostileServer:
    """An HTTP/1.1 model server on 127.0.0.1 that misbehaves as `scenario` says for HOSTILE prompts."""

    scenario: str
    requests: list[Seen] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._misbehave = SCENARIOS[self.scenario]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hostile(self) -> list[Seen]:
        return [r for r in self.requests if r.hostile]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _connection(self, reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method = line.split(b" ", 1)[0]
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                if method != b"POST":
                    # A warm-up HEAD.
                    stream.write(head(404, {"Content-Length": "0"}))
                    await stream.drain()
                    continue
                prompt = str(json.loads(raw).get("prompt", ""))
                seen = Seen(prompt, MARK in prompt, time.monotonic())
                self.requests.append(seen)
                writer = Writer(stream, seen)
                try:
                    if not seen.hostile:
                        body = sse_event(REPLY, "stop") + b"data: [DONE]\n\n"
                        await writer.send(head(200, {**SSE, "Content-Length": str(len(body))}))
                        await writer.send(body)
                        continue
                    await self._misbehave(writer)
                    # After misbehaving the connection is not trusted with another request.
                    return
                finally:
                    seen.ended = time.monotonic()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:
            # The server is stopping (asyncio's stream callback in 3.11 logs a cancelled handler).
            return
        finally:
            with contextlib.suppress(Exception):
                stream.close()
