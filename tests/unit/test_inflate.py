"""Content-Encoding decoding in bounded pieces: right bytes, small pieces, lazily, errors."""

from __future__ import annotations

import gzip
import os
import random
import tracemalloc
import zlib

import pytest

from fim_lsp.backends import StreamError
from fim_lsp.backends.inflate import ACCEPT_ENCODING, Inflater

PIECE = 1024
ORIGINAL = os.urandom(3000) + b"data: x\n\n" * 5000 + os.urandom(100)


def raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(wbits=-15)
    return z.compress(data) + z.flush()


def inflate(encoding: str, data: bytes, chunk: int) -> list[bytes]:
    inflater = Inflater(encoding, piece=PIECE)
    pieces = [p for i in range(0, len(data), chunk) for p in inflater.feed(data[i : i + chunk])]
    return pieces + list(inflater.flush())


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("", ORIGINAL),
        ("identity", ORIGINAL),
        ("gzip", gzip.compress(ORIGINAL)),
        ("x-gzip", gzip.compress(ORIGINAL)),
        ("deflate", zlib.compress(ORIGINAL)),
        ("deflate", raw_deflate(ORIGINAL)),
        ("GZIP", gzip.compress(ORIGINAL[:100]) + gzip.compress(ORIGINAL[100:])),
        ("deflate, gzip", gzip.compress(zlib.compress(ORIGINAL))),
    ],
)
@pytest.mark.parametrize("chunk", [1, 7, 500, 1 << 20])
def test_any_encoding_and_chunking_gives_the_bytes_in_bounded_pieces(
    encoding: str, encoded: bytes, chunk: int
) -> None:
    pieces = inflate(encoding, encoded, chunk)
    assert b"".join(pieces) == ORIGINAL
    assert max(len(p) for p in pieces) <= PIECE


def test_a_bomb_chunk_inflates_only_as_far_as_it_is_read() -> None:
    bomb = gzip.compress(b"\0" * (256 << 20), 9)  # ~250 KB expanding to 256 MB
    tracemalloc.start()
    try:
        pieces = Inflater("gzip", piece=PIECE).feed(bomb)
        taken = [next(pieces) for _ in range(10)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [len(p) for p in taken] == [PIECE] * 10
    assert peak < 4 << 20


def test_bytes_after_the_compressed_data_are_ignored() -> None:
    assert b"".join(inflate("gzip", gzip.compress(b"abc") + b"junk", 3)) == b"abc"


def test_an_encoding_it_cannot_inflate_in_pieces_is_refused() -> None:
    assert ACCEPT_ENCODING == "gzip, deflate"
    with pytest.raises(StreamError, match="'br'"):
        Inflater("br")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_corrupt_data_is_a_stream_error(encoding: str) -> None:
    junk = bytes(random.Random(1).randrange(256) for _ in range(64))
    with pytest.raises(StreamError):
        inflate(
            encoding, b"\x1f\x8b\x08\x00" + junk if encoding == "gzip" else b"\x78\x9c" + junk, 8
        )
