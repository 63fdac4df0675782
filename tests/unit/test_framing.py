"""The stdin frame decoder: frames in any chunking, garbage skipped, impossible lengths refused."""

from __future__ import annotations

import json

import pytest

from fim_lsp.transport import MAX_HEADER, FrameDecoder, FramingError, process_alive


def framed(body: bytes, header: bytes | None = None) -> bytes:
    """`body` behind a Content-Length header (or the given header)."""
    head = header if header is not None else b"Content-Length: %d\r\n\r\n" % len(body)
    return head + body


def bodies(decoder: FrameDecoder, data: bytes, chunk: int = 0) -> list[bytes]:
    """Feed `data` (in chunks of `chunk` bytes, 0: at once) and take every body out.

    A body that is not JSON is put back to be searched for frames, as the transport does.
    """
    out = []
    for i in range(0, len(data), chunk or len(data) or 1):
        decoder.feed(data[i : i + (chunk or len(data))])
        while (body := decoder.next()) is not None:
            try:
                json.loads(body)
            except ValueError:
                decoder.unread(body)
                continue
            out.append(body)
    return out


@pytest.mark.parametrize("chunk", [0, 1, 2, 7, 64])
def test_frames_in_any_chunking(chunk: int) -> None:
    data = framed(b'{"a":1}') + framed(b'{"b":"\\r\\n\\r\\n"}') + framed(b"{}")
    data += framed(b'{"c":3}', b"Content-Length: 7\r\nContent-Type: application/json\r\n\r\n")
    decoder = FrameDecoder()
    assert bodies(decoder, data, chunk) == [b'{"a":1}', b'{"b":"\\r\\n\\r\\n"}', b"{}", b'{"c":3}']
    assert decoder.skipped == []


def test_header_names_are_case_insensitive_and_lf_only_lines_accepted() -> None:
    data = framed(b"{}", b"content-length:2\n\n") + framed(b"[]", b"CONTENT-LENGTH : 2\r\n\r\n")
    assert bodies(FrameDecoder(), data) == [b"{}", b"[]"]


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b"Content-Length: abc\r\n\r\n{}", "not a number"),
        (b"Content-Length: -2\r\n\r\n{}", "not a number"),
        (b"Content-Length: 2\r\nbroken\r\n\r\n{}", "without a colon"),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "two different"),
        (b"garbage without a header", "not an LSP frame"),
    ],
)
def test_a_bad_header_is_skipped_up_to_the_next_frame(bad: bytes, why: str) -> None:
    decoder = FrameDecoder()
    assert bodies(decoder, bad + framed(b'{"ok":1}'), 3) == [b'{"ok":1}']
    assert any(why in reason for _, reason in decoder.skipped), decoder.skipped


def test_garbage_before_a_header_on_the_same_line() -> None:
    decoder = FrameDecoder()
    assert bodies(decoder, b"xyz" + framed(b"{}")) == [b"{}"]
    assert decoder.skipped == [(3, "bytes that are not an LSP frame")]


def test_a_header_without_an_end_is_given_up_after_max_header() -> None:
    decoder = FrameDecoder()
    data = b"Content-Length: 2" + b" " * MAX_HEADER + framed(b"{}")
    assert bodies(decoder, data, 512) == [b"{}"]


def test_a_length_too_large_is_cut_at_the_next_header() -> None:
    decoder = FrameDecoder()
    data = framed(b'{"a":1}', b"Content-Length: 900\r\n\r\n") + framed(b'{"b":2}')
    assert bodies(decoder, data) == [b'{"a":1}', b'{"b":2}']
    assert decoder.skipped and "runs into the next frame" in decoder.skipped[0][1]


def test_a_body_that_only_mentions_content_length_is_not_cut() -> None:
    body = b'{"text":"Content-Length: 12\\r\\n\\r\\nx"}'
    decoder = FrameDecoder()
    data = framed(body)
    assert bodies(decoder, data[:-5]) == []  # incomplete: waits, does not cut at the mention
    assert bodies(decoder, data[-5:]) == [body]


def test_unread_rescans_a_body_for_frames() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"")
    decoder.unread(b'{"broken' + framed(b'{"inner":1}'))
    assert decoder.next() == b'{"inner":1}'


def test_an_impossible_length_raises() -> None:
    decoder = FrameDecoder(max_body=1000)
    decoder.feed(b"Content-Length: 1001\r\n\r\n")
    with pytest.raises(FramingError, match="1001 bytes"):
        decoder.next()
    decoder = FrameDecoder()
    decoder.feed(b"Content-Length: 99999999999999999999999\r\n\r\n")
    with pytest.raises(FramingError):
        decoder.next()


def test_memory_stays_bounded_under_endless_garbage() -> None:
    decoder = FrameDecoder()
    for _ in range(2000):
        decoder.feed(b"x" * 1000)
        assert decoder.next() is None
    assert len(decoder._buf) - decoder._pos < 64 * 1024


def test_process_alive() -> None:
    import os
    import subprocess

    assert process_alive(os.getpid())
    child = subprocess.Popen(["true"])
    child.wait()
    assert not process_alive(child.pid)
    assert not process_alive(2**62)


def test_a_bad_frame_is_told_once_with_its_cause() -> None:
    decoder = FrameDecoder()
    bad = b'Content-Length: abc\r\n\r\n{"lost":1}'
    assert bodies(decoder, bad + framed(b"{}") + b"junk" + framed(b"[]")) == [b"{}", b"[]"]
    assert decoder.skipped == [
        (len(bad), "Content-Length is not a number: b'abc'"),
        (4, "bytes that are not an LSP frame"),
    ]
