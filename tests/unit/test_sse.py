"""The SSE decoder and Codestral's stream format, fed in-memory bytes."""

from __future__ import annotations

import pytest

from fim_lsp.backends import StreamError
from fim_lsp.backends.codestral import parse_event
from fim_lsp.backends.sse import SSEDecoder

STREAM = (
    b'data: {"id":"1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
    b": keep-alive\n\n"
    b"\n"
    b'data: {"id":"1","choices":[{"index":0,"delta":{"content":"def "},"finish_reason":null}]}\n\n'
    b'data: {"id":"1","choices":[{"index":0,"delta":{"content":"add"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}\n\n'
    b"data: [DONE]\n\n"
)


def decode(chunks: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    events = [e for c in chunks for e in decoder.feed(c)]
    return events + decoder.close()


def contents(events: list[str]) -> tuple[str, list[str | None], bool]:
    text, finishes, done = "", [], False
    for data in events:
        c, f, d = parse_event(data)
        text += c
        finishes.append(f)
        done = done or d
    return text, finishes, done


def test_whole_stream() -> None:
    text, finishes, done = contents(decode([STREAM]))
    assert text == "def add"
    assert finishes == [None, None, "stop", None]
    assert done


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_any_chunking_gives_the_same_events(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert decode(chunks) == decode([STREAM])


def test_byte_order_mark_crlf_and_split_utf8() -> None:
    raw = (
        '\ufeffdata: {"choices":[{"delta":{"content":"😀"}}]}\r\n\r\ndata: [DONE]\r\n\r\n'.encode()
    )
    # Cut inside the emoji's UTF-8 bytes and between \r and \n.
    cut = raw.index(b"\xf0") + 2
    events = decode([raw[:cut], raw[cut:-1], raw[-1:]])
    assert contents(events) == ("😀", [None, None], True)


def test_multi_line_data_and_unterminated_last_event() -> None:
    assert decode([b"data: a\ndata: b\n\ndata: c"]) == ["a\nb", "c"]


def test_malformed_event_raises_stream_error() -> None:
    with pytest.raises(StreamError):
        parse_event('{"choices": [{"delta": {"content": ')
    with pytest.raises(StreamError):
        parse_event('{"choices": [{"delta": {"content": 3}}]}')


def test_ndjson_lines_split_across_chunks_and_a_last_line_without_its_end() -> None:
    from fim_lsp.backends.ndjson import NDJSONDecoder

    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"response": "a"}\n{"resp') == ['{"response": "a"}']
    assert decoder.feed(b'onse": "\xc3') == []
    assert decoder.feed(b'\xa9"}\n\n') == ['{"response": "\u00e9"}']
    assert decoder.feed(b'{"done": true}') == []
    assert decoder.close() == ['{"done": true}']


def test_a_chunk_of_many_lines_is_decoded_in_one_pass() -> None:
    import time

    # Two megabytes of keep-alive comments in one chunk: a million lines. Splitting them off a
    # buffer one by one copies the rest each time (the old decoder took ~25 s).
    chunk = b":\n" * (1 << 20) + b"data: [DONE]\n\n"
    started = time.perf_counter()
    assert SSEDecoder().feed(chunk) == ["[DONE]"]
    assert time.perf_counter() - started < 3


def test_a_long_line_arriving_in_many_chunks_is_joined_once() -> None:
    decoder = SSEDecoder()
    events = [e for _ in range(1000) for e in decoder.feed(b"x" * 1000)]
    events += decoder.feed(b"\n")
    assert events == []
    assert decoder.feed(b"data: a\n\n") == ["a"]


@pytest.mark.parametrize("end", [b"\r", b"\n", b"\r\n"])
def test_every_line_end_dispatches_at_once_even_split_across_chunks(end: bytes) -> None:
    decoder = SSEDecoder()
    # The event is complete when the blank line's end arrives, not when the next chunk does.
    assert decoder.feed(b"data: a" + end + end[:1]) == ["a"]
    assert decoder.feed(end[1:] + b"data: b" + end) == []
    assert decoder.feed(end) == ["b"]
    assert decoder.close() == []


def test_a_byte_order_mark_is_stripped_only_at_the_start() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb") == []
    assert decoder.feed(b"\xbfdata: a\n\ndata: \xef\xbb\xbfb\n\n") == ["a", "\ufeffb"]


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: " + b"a" * 5000],  # one line, never ended
        [b"data: " + b"a" * 600 + b"\n", b"data: " + b"a" * 600 + b"\n"],  # one event, two lines
        [b": " + b"a" * 2000 + b"\n"],  # a comment
        [b"id: " + b"a" * 2000 + b"\n"],  # another field
        [b"a" * 700] * 3,  # a line over three chunks
    ],
)
def test_a_line_or_event_over_the_bound_is_a_stream_error(chunks: list[bytes]) -> None:
    decoder = SSEDecoder(max_line=1000)
    with pytest.raises(StreamError, match="over 1000 characters"):
        for chunk in chunks:
            decoder.feed(chunk)
        decoder.close()


def test_a_ten_megabyte_line_never_becomes_an_item() -> None:
    decoder = SSEDecoder()
    with pytest.raises(StreamError):
        for _ in range(10):
            decoder.feed(b"data: " + b"a" * (1 << 20))
        decoder.feed(b"\n\n")


def test_ndjson_bounds_a_line_and_joins_long_lines_once() -> None:
    from fim_lsp.backends.ndjson import NDJSONDecoder

    decoder = NDJSONDecoder(max_line=1000)
    assert decoder.feed(b'{"a": 1}\r\n' * 3) == ['{"a": 1}'] * 3
    assert decoder.feed(b"x" * 600) == []
    with pytest.raises(StreamError, match="over 1000 characters"):
        decoder.feed(b"x" * 600)
    decoder = NDJSONDecoder(max_line=1000)
    with pytest.raises(StreamError):
        decoder.feed(b"y" * 1001 + b"\n")
    decoder = NDJSONDecoder()
    for _ in range(500):
        assert decoder.feed(b"z" * 1000) == []
    assert decoder.feed(b"\n") == ["z" * 500_000]


def reference_events(raw: bytes) -> list[str]:
    """The SSE rules applied to a whole stream at once: the decoder must agree in any chunking."""
    import re

    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    events, data = [], []
    for line in [*re.split(r"\r\n|\r|\n", text), ""]:
        if not line:
            if data:
                events.append("\n".join(data))
            data = []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            if name == "data":
                data.append(value.removeprefix(" "))
    return events


@pytest.mark.parametrize("seed", range(40))
def test_random_streams_in_random_chunks_decode_as_the_rules_say(seed: int) -> None:
    import random

    rng = random.Random(seed)
    parts = ["data: a", "data:b", "data", ": dat", ": keep-alive", "da", "ta: x", "id: 1", "", "é"]
    ends = ["\n", "\r", "\r\n"]
    raw = ("\ufeff" if seed % 2 else "") + "".join(
        rng.choice(parts) + rng.choice(ends) for _ in range(rng.randrange(1, 60))
    )
    data = raw.encode()
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(0, 20))))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert decode(chunks) == reference_events(data)
