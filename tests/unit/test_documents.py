"""Documents: line splitting, position encodings and incremental edits against a string model."""

from __future__ import annotations

import random

import pytest

from fim_lsp.documents import (
    UTF8,
    UTF16,
    UTF32,
    Document,
    column_to_index,
    encoding_name,
    index_to_column,
    line_body,
    split_lines,
)


def test_encoding_names_from_enum_members_and_strings() -> None:
    from lsprotocol.types import PositionEncodingKind

    assert encoding_name(PositionEncodingKind.Utf16) == UTF16
    assert encoding_name("utf-8") == UTF8
    assert encoding_name(None) == UTF16
    with pytest.raises(ValueError):
        encoding_name("latin-1")


def test_split_lines_only_on_lsp_terminators() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("a\n") == ["a\n", ""]
    assert split_lines("") == [""]
    # Form feed and U+2028 are not line ends in LSP (str.splitlines would split there).
    assert split_lines("a\x0cb\u2028c") == ["a\x0cb\u2028c"]


@pytest.mark.parametrize(
    ("body", "encoding", "column", "index"),
    [
        ("a😀b", UTF16, 1, 1),
        ("a😀b", UTF16, 3, 2),
        ("a😀b", UTF16, 2, 1),  # inside the surrogate pair: rounds down, never splits
        ("a😀b", UTF8, 5, 2),
        ("a😀b", UTF32, 2, 2),
        ("中文x", UTF16, 2, 2),
        ("中文x", UTF8, 6, 2),
        ("abc", UTF16, 99, 3),
        ("abc", UTF16, -1, 0),
    ],
)
def test_column_to_index(body: str, encoding: str, column: int, index: int) -> None:
    assert column_to_index(body, column, encoding) == index


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_index_and_column_round_trip(encoding: str) -> None:
    body = "x = '😀中é' + 🎉"
    for i in range(len(body) + 1):
        assert column_to_index(body, index_to_column(body, i, encoding), encoding) == i


def _offset(text: str, line: int, col: int, encoding: str) -> int:
    lines = split_lines(text)
    return sum(len(x) for x in lines[:line]) + column_to_index(
        line_body(lines[line]), col, encoding
    )


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_random_incremental_edits_match_a_string_model(encoding: str) -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", "\n", "\r", "\r\n", "😀", "é", "中", " "]
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        doc = Document.from_text("file:///x", text, encoding=encoding)
        for version in range(6):
            lines = split_lines(text)

            def pick(lines: list[str] = lines) -> tuple[int, int]:
                n = rng.randrange(len(lines))
                body = line_body(lines[n])
                return n, index_to_column(body, rng.randint(0, len(body)), encoding)

            start, end = sorted([pick(), pick()])
            new = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
            a, b = _offset(text, *start, encoding), _offset(text, *end, encoding)
            text = text[:a] + new + text[b:]
            doc.apply_edit(start, end, new, version)
            assert doc.text_lines == split_lines(text)


def test_crlf_document_keeps_its_line_ending() -> None:
    doc = Document.from_text("file:///x", "a\r\nb\r\n")
    doc.apply_edit((1, 1), (1, 1), "\r\nc", 2)
    assert doc.text == "a\r\nb\r\nc\r\n"


def test_positions_past_the_end_are_clamped() -> None:
    doc = Document.from_text("file:///x", "ab\ncd")
    assert doc.clamp(10, 0) == (1, 2)
    assert doc.clamp(0, 10) == (0, 2)
    assert doc.clamp(-1, 3) == (0, 0)
