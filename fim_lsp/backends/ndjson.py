"""A pure, incremental NDJSON decoder: bytes in, one JSON text per line out (Ollama's streams).

Linear in the bytes fed (a line left unfinished is kept as pieces, joined when it ends); a
line longer than `max_line` characters ends the stream.
"""

from __future__ import annotations

import codecs

from .errors import StreamError
from .limits import LINE_CHARS


class NDJSONDecoder:
    """Feed it chunks as they arrive; it returns each complete non-blank line."""

    def __init__(self, *, max_line: int = LINE_CHARS) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line = max_line
        self._partial: list[str] = []
        self._partial_chars = 0

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk; return the lines it completes."""
        text = self._text.decode(chunk)
        if not text:
            return []
        *lines, rest = text.split("\n")
        if lines and self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial = []
            self._partial_chars = 0
        if rest:
            self._grow(rest)
        return self._keep(lines)

    def close(self) -> list[str]:
        """The body ended: the last line, if it had no line end."""
        tail = self._text.decode(b"", final=True)
        if tail:
            self._grow(tail)
        rest = "".join(self._partial)
        self._partial = []
        self._partial_chars = 0
        return self._keep([rest])

    def _grow(self, piece: str) -> None:
        self._partial.append(piece)
        self._partial_chars += len(piece)
        if self._partial_chars > self._max_line:
            raise StreamError(f"a line of the model's stream is over {self._max_line} characters")

    def _keep(self, lines: list[str]) -> list[str]:
        kept = []
        for line in lines:
            if len(line) > self._max_line:
                raise StreamError(
                    f"a line of the model's stream is over {self._max_line} characters"
                )
            line = line.strip()
            if line:
                kept.append(line)
        return kept
