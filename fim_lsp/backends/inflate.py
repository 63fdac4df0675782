"""Content-Encoding decoding in bounded pieces: a small compressed chunk never expands at once.

httpx inflates each network chunk whole (`aiter_bytes`), so 64 KB of a gzip bomb becomes
64 MB in one step; here zlib's `max_length` and `unconsumed_tail` hand out at most `piece`
bytes at a time, lazily, so the caller can count them, stop at its bound and yield to the
event loop between pieces.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator, Iterator

from .errors import StreamError
from .limits import INFLATE_PIECE_BYTES

# What the runner asks for: what it can inflate in bounded pieces (brotli and zstd it cannot).
ACCEPT_ENCODING = "gzip, deflate"
_GZIP_MAGIC = b"\x1f\x8b"


class _Zlib:
    """One gzip or deflate layer."""

    def __init__(self, gzip: bool, piece: int) -> None:
        self._gzip = gzip
        self._piece = piece
        self._z: zlib._Decompress | None = None
        # The first bytes of a stream (or of a next gzip member) tell what follows.
        self._head = b""
        self._streams = 0
        self._ended = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._ended:
            if self._z is None:
                self._head += data
                if len(self._head) < 2:
                    return
                data, self._head = self._head, b""
                if not self._start(data):
                    # Bytes after the end of the compressed data are ignored (as httpx does).
                    self._ended = True
                    return
            data = yield from self._inflate(data)

    def flush(self) -> Iterator[bytes]:
        if self._z is not None:
            yield from self._inflate(b"")
        elif self._head and not self._streams:
            raise StreamError("the model's answer is too short to be compressed data")

    def _start(self, head: bytes) -> bool:
        if self._gzip:
            # Concatenated gzip members are one body.
            if self._streams and not head.startswith(_GZIP_MAGIC):
                return False
            self._z = zlib.decompressobj(31)
        else:
            if self._streams:
                return False
            # Deflate is zlib-wrapped by the RFC, raw from some servers: the first two bytes tell.
            b0, b1 = head[0], head[1]
            wrapped = b0 & 0x0F == 8 and ((b0 << 8) | b1) % 31 == 0
            self._z = zlib.decompressobj(15 if wrapped else -15)
        self._streams += 1
        return True

    def _inflate(self, data: bytes) -> Generator[bytes, None, bytes]:
        """Inflate in pieces; returns the bytes after the end of the stream, if it ended."""
        z = self._z
        assert z is not None
        while True:
            try:
                out = z.decompress(data, self._piece)
            except zlib.error as err:
                raise StreamError(f"the model's answer could not be inflated ({err})") from err
            data = z.unconsumed_tail
            if out:
                yield out
            if z.eof:
                self._z = None
                return z.unused_data + data
            # A full piece may leave output pending inside zlib even when the input is used up.
            if not data and len(out) < self._piece:
                return b""


class Inflater:
    """Undo a response's Content-Encoding (identity, gzip, deflate, stacked) in bounded pieces."""

    def __init__(self, content_encoding: str, piece: int = INFLATE_PIECE_BYTES) -> None:
        layers: list[_Zlib] = []
        for name in content_encoding.lower().split(","):
            coding = name.strip()
            if coding in ("", "identity"):
                continue
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise StreamError(
                    f"the model's answer is in an encoding not read here: {coding[:40]!r}"
                )
            layers.append(_Zlib(coding != "deflate", piece))
        # The last coding listed was applied last: it is undone first.
        self._layers = layers[::-1]
        self._piece = piece

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The inflated pieces of a chunk, each at most `piece` bytes, made as they are taken."""
        if not self._layers and len(data) <= self._piece:
            return iter((data,) if data else ())
        return self._through(0, data, final=False)

    def flush(self) -> Iterator[bytes]:
        """The pieces left when the body ends."""
        return self._through(0, b"", final=True)

    def _through(self, index: int, data: bytes, *, final: bool) -> Iterator[bytes]:
        if index == len(self._layers):
            # Identity bodies arrive in chunks of any size: they are cut to pieces too.
            for start in range(0, len(data), self._piece):
                yield data[start : start + self._piece]
            return
        layer = self._layers[index]
        if data:
            for piece in layer.feed(data):
                yield from self._through(index + 1, piece, final=False)
        if final:
            for piece in layer.flush():
                yield from self._through(index + 1, piece, final=False)
            yield from self._through(index + 1, b"", final=True)
