"""A pure, incremental server-sent-events decoder: bytes in, event data out.

Written here rather than taken from httpx-sse because Codestral streams may start with a
byte-order mark, which httpx-sse does not strip (the first event would be lost).
"""

from __future__ import annotations

import codecs


class SSEDecoder:
    """Feed it chunks as they arrive; it returns the `data` of each complete event."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._started = False

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk; return the data of the events it completes."""
        text = self._text.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        self._buffer += text
        events: list[str] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, after = cut
            line = self._buffer[:end]
            self._buffer = self._buffer[after:]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[str]:
        """The stream ended: flush what is left (an unterminated last line, a pending event)."""
        rest = self._buffer + self._text.decode(b"", final=True)
        self._buffer = ""
        events: list[str] = []
        if rest:
            event = self._line(rest.rstrip("\r"))
            if event is not None:
                events.append(event)
        event = self._line("")
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str) -> str | None:
        if not line:
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value.removeprefix(" "))
        # event, id, retry and unknown fields mean nothing to a FIM stream.
        return None


def _line_end(buffer: str) -> tuple[int, int] | None:
    """Where the first line of `buffer` ends: (end of text, start of next line), or None."""
    lf = buffer.find("\n")
    cr = buffer.find("\r")
    if cr < 0 and lf < 0:
        return None
    if cr < 0 or (0 <= lf < cr):
        return lf, lf + 1
    if cr == len(buffer) - 1:
        # A lone \r at the end may be the first half of \r\n: wait for the next chunk.
        return None
    return (cr, cr + 2) if buffer[cr + 1] == "\n" else (cr, cr + 1)
