"""Serving LSP over stdio with stdin read on the event loop itself, and timers that fire on time.

pygls reads stdin on a worker thread: every header line and every body is a hop to the thread
pool and back, which costs each keystroke's messages a millisecond or more before the server
sees them. A pipe or socket on stdin can be watched by the event loop directly instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import selectors
import stat
import sys
import threading
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async
from pygls.server import JsonRPCServer

log = logging.getLogger(__name__)

# Bytes buffered before reading from the pipe pauses; a message larger than this still arrives.
_BUFFER_LIMIT = 1 << 24
# select() takes descriptors below 1024: the lowest free one must leave room for the connections.
_SELECT_FD_HEADROOM = 256


class PipeReader:
    """pygls's reader interface over an asyncio stream; end of input reads as b""."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        """One header line, with its line ending; b"" at end of input."""
        try:
            return await self.stream.readline()
        except ValueError:
            # A "header" longer than the buffer limit is not LSP: end the session cleanly.
            log.error("stdin: a header line exceeds %d bytes; stopping", _BUFFER_LIMIT)
            return b""

    async def readexactly(self, n: int) -> bytes:
        """A message body of n bytes; b"" if input ends first."""
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


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


def start_stdio(server: JsonRPCServer) -> None:
    """Serve `server` over stdin/stdout until the client exits or closes stdin."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if not loop_readable(stdin, stdout):
        server.start_io()
        return
    server.protocol.set_writer(StdoutWriter(stdout))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=_BUFFER_LIMIT)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        await run_async(
            stop_event=threading.Event(),
            reader=PipeReader(stream),
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )

    try:
        if sys.version_info >= (3, 11):
            with asyncio.Runner(loop_factory=precise_loop) as runner:
                runner.run(serve())
        else:
            asyncio.run(serve())
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pygls
