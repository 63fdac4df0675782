"""HTTP/2 streams closed before their end are reset (RST_STREAM CANCEL), which httpcore omits.

httpcore 1.0 forgets an HTTP/2 response closed early without telling the server
(encode/httpcore#943; the fix, #1098, is not released): the model goes on generating the
stopped suggestion, and the stopped stream's bytes never return to the connection's
flow-control window, which stalls the connection after enough of them. fim-lsp stops most
streams early, so it resets them itself: the unread bytes are acknowledged, the stream is
cancelled, and the frames are written under httpcore's write lock. DATA that arrives for the
stream later is acknowledged by h2 itself (it does so for closed streams).

This reaches into httpcore's private state, so it is applied only when that state looks as
expected; otherwise `install()` returns False and the client stays on HTTP/1.1, where closing
the connection stops the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

# Seconds to wait for the reset to be written; the connection is dropped if it cannot be.
_WRITE_TIMEOUT = 5.0
_installed: bool | None = None


def install() -> bool:
    """Make httpcore reset HTTP/2 streams closed early; False if it cannot be done safely."""
    global _installed
    if _installed is None:
        _installed = _install()
    return _installed


def _install() -> bool:
    try:
        import h2.errors
        import h2.events
        from httpcore._async.http2 import AsyncHTTP2Connection
    except ImportError:
        return False
    original = getattr(AsyncHTTP2Connection, "_response_closed", None)
    needed = ("_h2_state", "_events", "_write_lock", "_network_stream")
    init_names = AsyncHTTP2Connection.__init__.__code__.co_names
    if original is None or not all(name in init_names for name in needed):
        log.info("httpcore's HTTP/2 connection is not as expected: HTTP/1.1 only")
        return False
    closed: Callable[[Any, int], Awaitable[None]] = original

    async def response_closed(self: Any, stream_id: int) -> None:
        stream = self._h2_state.streams.get(stream_id)
        if stream is not None and not stream.closed:
            try:
                for event in self._events.get(stream_id, ()):
                    if isinstance(event, h2.events.DataReceived) and event.flow_controlled_length:
                        self._h2_state.acknowledge_received_data(
                            event.flow_controlled_length, stream_id
                        )
                self._h2_state.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
                async with self._write_lock:
                    await self._network_stream.write(self._h2_state.data_to_send(), _WRITE_TIMEOUT)
            except Exception as err:
                # A connection that cannot take the reset is not fit for more requests.
                log.info("could not reset an HTTP/2 stream (%s): dropping the connection", err)
                self._connection_error = True
        await closed(self, stream_id)

    AsyncHTTP2Connection._response_closed = response_closed  # type: ignore[method-assign]
    return True
