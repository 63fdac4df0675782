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
