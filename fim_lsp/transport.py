"""Serving LSP over stdio: frames read on the event loop, resynchronised after garbage, a clean exit.

pygls reads stdin on a worker thread: every header line and every body is a hop to the thread
pool and back, which costs each keystroke's messages a millisecond or more before the server
sees them. A pipe or socket on stdin is watched by the event loop directly instead.

pygls's reader also never recovers from one bad header (a non-numeric Content-Length, a missing
header, bytes between frames): every later message is lost while the process lives on. Here a
frame that does not parse is skipped up to the next `Content-Length:` header; only a length
beyond any sensible message ends the process (exit code 1), so that the editor restarts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import selectors
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from .rpc import RateLimitedLog

if TYPE_CHECKING:
    from .server import FimLanguageServer

log = logging.getLogger(__name__)

# Bytes buffered before reading from the pipe pauses; a message larger than this still arrives.
_BUFFER_LIMIT = 1 << 24
_READ_SIZE = 1 << 16
# select() takes descriptors below 1024: the lowest free one must leave room for the connections.
_SELECT_FD_HEADROOM = 256
# A message body larger than this cannot be a real one: the stream is beyond repair.
MAX_BODY = 256 << 20
# A header block (from "Content-Length" to the blank line) is never longer than this.
MAX_HEADER = 4096

_HEADER_START = re.compile(rb"(?i)content-length[ \t]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
# A header inside a body that has not arrived in full: the announced length was too large. A JSON
# body never holds this (a newline inside a JSON string is escaped).
_SWALLOWED_HEADER = re.compile(rb"(?i)content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n")
# Bytes kept at the end of garbage: they may be the start of a header that is still arriving.
_KEEP = 32
_GARBAGE = "bytes that are not an LSP frame"

_problems = RateLimitedLog(log)


class FramingError(Exception):
    """The input cannot be split into messages any more."""


def _content_length(header: bytes) -> tuple[int, str]:
    """The Content-Length of a header block, or -1 and what is wrong with it."""
    length = -1
    for line in _LINE_END.split(header):
        name, colon, value = line.partition(b":")
        if not colon:
            return -1, f"a header line without a colon: {line[:40]!r}"
        if name.strip().lower() != b"content-length":
            continue  # Content-Type, or a header the protocol does not define: harmless
        digits = value.strip()
        if not digits.isdigit():
            return -1, f"Content-Length is not a number: {digits[:20]!r}"
        value_int = int(digits) if len(digits) <= 15 else MAX_BODY + 1
        if length not in (-1, value_int):
            return -1, "two different Content-Length headers"
        length = value_int
    return length, ""


class FrameDecoder:
    """Splits the bytes from the client into message bodies, skipping whatever is not a frame."""

    def __init__(self, max_body: int = MAX_BODY) -> None:
        self.max_body = max_body
        self._buf = bytearray()
        self._pos = 0
        # Where the search for a swallowed header in an incomplete body resumes.
        self._searched = 0
        # (bytes, why) for every stretch skipped since the caller last took them.
        self.skipped: list[tuple[int, str]] = []
        self._skip_end = -1

    def feed(self, data: bytes) -> None:
        """Bytes as they arrive."""
        if self._pos and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._searched = max(0, self._searched - self._pos)
            self._skip_end -= self._pos
            self._pos = 0
        self._buf += data

    def unread(self, data: bytes) -> None:
        """Put bytes back in front: a body that was not a message is searched for headers."""
        self._buf[self._pos : self._pos] = data
        self._searched = 0
        self._skip_end = -1

    def _skip(self, n: int, why: str) -> None:
        if n <= 0:
            return
        if why == _GARBAGE and self.skipped and self._skip_end == self._pos:
            # The rest of a bad frame (right after its bad header): told with its cause, as one.
            self.skipped[-1] = (self.skipped[-1][0] + n, self.skipped[-1][1])
        elif bytes(self._buf[self._pos : self._pos + n]).strip():
            self.skipped.append((n, why))
        self._pos += n
        self._skip_end = self._pos

    def next(self) -> bytes | None:
        """The next complete message body, or None until more bytes arrive.

        Raises FramingError for a length beyond `max_body`: skipping that many bytes would be a
        guess, and reading them a denial of service.
        """
        buf = self._buf
        while True:
            start = _HEADER_START.search(buf, self._pos)
            if start is None:
                self._skip(len(buf) - self._pos - _KEEP, _GARBAGE)
                return None
            self._skip(start.start() - self._pos, _GARBAGE)
            end = _HEADER_END.search(buf, self._pos, self._pos + MAX_HEADER)
            if end is None:
                if len(buf) - self._pos < MAX_HEADER:
                    return None
                self._skip(start.end() - self._pos, "a header without an end")
                continue
            length, problem = _content_length(bytes(buf[self._pos : end.start()]))
            if problem:
                self._skip(start.end() - self._pos, problem)
                continue
            if length > self.max_body:
                raise FramingError(
                    f"a message of {length} bytes was announced (the limit is {self.max_body})"
                )
            body_start = end.end()
            body_end = body_start + length
            if len(buf) >= body_end:
                self._pos = body_end
                self._searched = 0
                return bytes(buf[body_start:body_end])
            # Incomplete: unless the body already holds the next frame's header, wait for it.
            swallowed = _SWALLOWED_HEADER.search(buf, max(body_start, self._searched))
            self._searched = max(body_start, len(buf) - _KEEP)
            if swallowed is None:
                return None
            self.skipped.append((0, f"Content-Length {length} runs into the next frame"))
            self._pos = swallowed.start()
            self._searched = 0
            return bytes(buf[body_start : swallowed.start()])


def _salvage(body: bytes) -> tuple[Any, bytes] | None:
    """A JSON value at the start of a body that is more than one value, and the rest of it."""
    try:
        text = body.decode("utf-8")
        value, end = json.JSONDecoder().raw_decode(text.lstrip())
    except (ValueError, RecursionError):
        return None
    rest = text.lstrip()[end:]
    return value, rest.encode("utf-8")


def dispatch(server: FimLanguageServer, decoder: FrameDecoder, body: bytes) -> None:
    """Parse one body and hand it to the protocol (which answers whatever it cannot handle)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        salvaged = _salvage(body)
        if salvaged is None:
            _problems("bad json", logging.WARNING, "stdin: a message that is not JSON, skipped")
            decoder.unread(body)
            return
        data, rest = salvaged
        _problems("short length", logging.WARNING, "stdin: a Content-Length that is too large")
        decoder.unread(rest)
    if not isinstance(data, dict):
        _problems("not an object", logging.WARNING, "stdin: a message that is not an object")
        return
    protocol = server.protocol
    try:
        protocol.handle_message(protocol.structure_message(data))
    except Exception:  # a bug here must not end the session
        _problems("dispatch", logging.ERROR, "could not handle a message", exc_info=True)


def _report_skipped(decoder: FrameDecoder) -> None:
    for n, why in decoder.skipped:
        size = f"skipped {n} bytes: " if n else ""
        _problems(f"skip {why[:30]}", logging.WARNING, "stdin: %s%s", size, why)
    decoder.skipped.clear()


async def read_messages(server: FimLanguageServer, read: Callable[[], Awaitable[bytes]]) -> int:
    """Read frames until the input ends (exit code 0) or cannot be framed any more (1)."""
    decoder = FrameDecoder()
    while chunk := await read():
        decoder.feed(chunk)
        try:
            while (body := decoder.next()) is not None:
                dispatch(server, decoder, body)
        except FramingError as err:
            log.error(
                "stdin: %s; the input cannot be trusted any more: exiting (code 1) so that the "
                "editor starts the server again",
                err,
            )
            return 1
        finally:
            _report_skipped(decoder)
    log.info("stdin closed by the client: exiting")
    return 0


class StdoutWriter:
    """pygls's writer over stdout: once the client is gone, writes are dropped quietly."""

    def __init__(self, stdout: BinaryIO, on_lost: Callable[[], None]) -> None:
        self._stdout = stdout
        self._on_lost = on_lost
        self.closed = False

    def close(self) -> None:
        """Nothing more goes out (the session is over)."""
        self.closed = True

    def write(self, data: bytes) -> None:
        """One frame."""
        if self.closed:
            return
        try:
            self._stdout.write(data)
            self._stdout.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError):  # ValueError: a closed file
            self.closed = True
            _silence(self._stdout)
            log.info("stdout closed by the client: exiting")
            self._on_lost()


def _silence(stdout: BinaryIO) -> None:
    """Point stdout at /dev/null: flushing what is left at exit must not print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie counts as ended)."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # exists, owned by someone else
    except (OSError, OverflowError, ValueError):
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as proc_stat:
            return proc_stat.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    except OSError:
        return True  # no /proc (macOS): kill() said it exists


def loop_readable(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """Whether stdin can be watched by the event loop without disturbing stdout.

    Only pipes and sockets qualify (not files or terminals), and only when stdout is another
    object: the loop makes stdin non-blocking, which would otherwise apply to stdout too.
    """
    try:
        fin, fout = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    if not (stat.S_ISFIFO(fin.st_mode) or stat.S_ISSOCK(fin.st_mode)):
        return False
    return (fin.st_dev, fin.st_ino) != (fout.st_dev, fout.st_ino)


def precise_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers fire on time: the debounce is a timer on every request.

    epoll rounds every wait up to a whole millisecond (0.5 ms late on average); select()
    takes microseconds. select() handles only descriptors below FD_SETSIZE (1024), so the
    default loop is kept when this process already has hundreds open.
    """
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    if probe >= _SELECT_FD_HEADROOM:
        return asyncio.new_event_loop()
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


async def _pipe_reader(stdin: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=_BUFFER_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)

    async def read() -> bytes:
        return await stream.read(_READ_SIZE)

    return read


def _thread_reader(stdin: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    """Files and terminals: a daemon thread reads (it must not keep the process alive)."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes] = asyncio.Queue()

    def pump() -> None:
        data = b"x"
        while data:
            try:
                data = stdin.read1(_READ_SIZE)  # type: ignore[attr-defined]
            except (OSError, ValueError):
                data = b""
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, data)
            except RuntimeError:  # the loop is closed: the session is over
                return

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return chunks.get


async def serve(server: FimLanguageServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve until `exit`, the end of stdin, a lost stdout or the editor's end; the exit code."""
    writer = StdoutWriter(stdout, on_lost=lambda: server.stop(0))
    server.protocol.set_writer(writer)
    stopped = server.stopped()
    read = await _pipe_reader(stdin) if loop_readable(stdin, stdout) else _thread_reader(stdin)
    reading = asyncio.ensure_future(read_messages(server, read))
    await asyncio.wait({stopped, reading}, return_when=asyncio.FIRST_COMPLETED)
    # Requests still in flight are cancelled when the loop closes: their answers go nowhere.
    writer.close()
    reading.cancel()
    if stopped.done():
        return stopped.result()
    if reading.cancelled():
        return 1
    if (err := reading.exception()) is not None:
        log.error("reading stdin failed: %r; exiting", err, exc_info=err)
        return 1
    code: int = reading.result()
    return code if server.exit_code is None else server.exit_code


def start_stdio(server: FimLanguageServer) -> int:
    """Serve `server` over stdin/stdout; returns the process's exit code."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        if sys.version_info >= (3, 11):
            with asyncio.Runner(loop_factory=precise_loop) as runner:
                return runner.run(serve(server, stdin, stdout))
        return asyncio.run(serve(server, stdin, stdout))
    except KeyboardInterrupt:
        return 130
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pygls
