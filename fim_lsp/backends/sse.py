"""A pure, incremental server-sent-events decoder: bytes in, event data out.

Written here rather than taken from httpx-sse because Codestral streams may start with a
byte-order mark, which httpx-sse does not strip (the first event would be lost).

Linear in the bytes fed: each chunk is split once (a line left unfinished is kept as pieces,
joined when it ends), so a chunk of a million comment lines costs one pass, not a million
buffer copies. A line or an event longer than `max_line` characters ends the stream.
"""

from __future__ import annotations

import codecs
import re

from .errors import StreamError
from .limits import LINE_CHARS

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SSEDecoder:
    """Feed it chunks as they arrive; it returns the `data` of each complete event."""

    def __init__(self, *, max_line: int = LINE_CHARS) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line = max_line
        # The unfinished last line, in pieces.
        self._partial: list[str] = []
        self._partial_chars = 0
        self._data: list[str] = []
        self._data_chars = 0
        self._started = False
        # The last chunk ended in \r: a \n opening the next one completes that line end.
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk; return the data of the events it completes."""
        text = self._text.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]
        events: list[str] = []
        if self._partial:
            # The line left unfinished by the last chunk ends first.
            end = _LINE_BREAK.search(text)
            if end is None:
                self._grow(text)
                return events
            self._partial.append(text[: end.start()])
            line = "".join(self._partial)
            self._partial = []
            self._partial_chars = 0
            self._lines([line], events)
            self._after_cr = end.end() == len(text) and text.endswith("\r")
            text = text[end.end() :]
        if not text:
            return events
        if not self._data and len(text) <= self._max_line and "data" not in text:
            # No event can be in it (keep-alive comments, a flood of them): only its
            # unfinished last line matters, found without splitting it into lines.
            cut = max(text.rfind("\n"), text.rfind("\r")) + 1
            if cut:
                self._after_cr = text.endswith("\r")
            if cut < len(text):
                self._grow(text[cut:])
            return events
        lines = _LINE_BREAK.split(text)
        rest = lines.pop()
        if lines:
            self._after_cr = text.endswith("\r")
            self._lines(lines, events)
        if rest:
            self._grow(rest)
        return events

    def close(self) -> list[str]:
        """The stream ended: flush what is left (an unterminated last line, a pending event)."""
        tail = self._text.decode(b"", final=True)
        if tail:
            self._grow(tail)
        rest = "".join(self._partial)
        self._partial = []
        self._partial_chars = 0
        events: list[str] = []
        self._lines([rest, ""] if rest else [""], events)
        return events

    def _grow(self, piece: str) -> None:
        self._partial.append(piece)
        self._partial_chars += len(piece)
        if self._partial_chars > self._max_line:
            raise StreamError(f"a line of the model's stream is over {self._max_line} characters")

    def _lines(self, lines: list[str], events: list[str]) -> None:
        data = self._data
        limit = self._max_line
        for line in lines:
            if not line:
                if data:
                    events.append("\n".join(data))
                    data.clear()
                    self._data_chars = 0
                continue
            if line[0] == ":":
                # A comment (keep-alive): nothing to keep, but it is bounded like any line.
                if len(line) > limit:
                    raise StreamError(f"a line of the model's stream is over {limit} characters")
                continue
            name, _, value = line.partition(":")
            if name == "data":
                if value.startswith(" "):
                    value = value[1:]
                data.append(value)
                self._data_chars += len(value) + 1
                if self._data_chars > limit:
                    raise StreamError(f"an event of the model's stream is over {limit} characters")
            elif len(line) > limit:
                raise StreamError(f"a line of the model's stream is over {limit} characters")
            # event, id, retry and unknown fields mean nothing to a FIM stream.
