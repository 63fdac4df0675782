"""A pure, incremental NDJSON decoder: bytes in, one JSON text per line out (Ollama's streams)."""

from __future__ import annotations

import codecs


class NDJSONDecoder:
    """Feed it chunks as they arrive; it returns each complete non-blank line."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""

    def feed(self, chunk: bytes) -> list[str]:
        """Decode a chunk; return the lines it completes."""
        self._buffer += self._text.decode(chunk)
        if "\n" not in self._buffer:
            return []
        *lines, self._buffer = self._buffer.split("\n")
        return [line.strip() for line in lines if line.strip()]

    def close(self) -> list[str]:
        """The body ended: the last line, if it had no line end."""
        rest = (self._buffer + self._text.decode(b"", final=True)).strip()
        self._buffer = ""
        return [rest] if rest else []
