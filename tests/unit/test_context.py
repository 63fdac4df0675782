"""Slicing the FIM prompt and suffix around the cursor."""

from __future__ import annotations

from fim_lsp.context import slice_context, word_start
from fim_lsp.documents import Document, split_lines


def ctx_at(text: str, marker: str = "|", prefix: int = 1000, suffix: int = 1000):
    offset = text.index(marker)
    clean = text.replace(marker, "", 1)
    before = clean[:offset]
    line = before.count("\n")
    index = len(before) - (before.rfind("\n") + 1)
    return clean, slice_context(split_lines(clean), line, index, prefix, suffix)


def test_exact_slice_around_the_cursor() -> None:
    clean, ctx = ctx_at("def f():\n    ret|urn 1\n\nx = 2\n")
    assert ctx.prompt + ctx.suffix == clean
    assert ctx.prompt == "def f():\n    ret"
    assert ctx.suffix == "urn 1\n\nx = 2\n"


def test_empty_file_and_cursor_at_start_and_end() -> None:
    assert ctx_at("|")[1].prompt == "" and ctx_at("|")[1].suffix == ""
    _clean, ctx = ctx_at("|abc\ndef")
    assert (ctx.prompt, ctx.suffix) == ("", "abc\ndef")
    _clean, ctx = ctx_at("abc\ndef|")
    assert (ctx.prompt, ctx.suffix) == ("abc\ndef", "")


def test_emoji_cjk_and_crlf_are_kept_whole() -> None:
    _clean, ctx = ctx_at("s = '😀中'\r\nt = '|é'\r\n")
    assert ctx.prompt == "s = '😀中'\r\nt = '"
    assert ctx.suffix == "é'\r\n"


def test_budget_cuts_at_line_boundaries() -> None:
    lines = [f"line {i:03d}\n" for i in range(100)]  # 9 chars each
    text = "".join(lines)
    doc = Document.from_text("file:///x", text)
    ctx = slice_context(doc.text_lines, 50, 4, 40, 20)
    assert ctx.prompt == "line 046\nline 047\nline 048\nline 049\nline"
    assert ctx.suffix == " 050\nline 051\n"
    assert len(ctx.prompt) <= 40 and len(ctx.suffix) <= 20


def test_cursor_line_longer_than_the_budget_is_cut_mid_line() -> None:
    text = "x" * 50 + "😀" * 50
    ctx = slice_context(split_lines(text), 0, 75, 10, 10)
    assert ctx.prompt == "😀" * 10 and len(ctx.suffix) == 10


def test_cost_does_not_grow_with_the_file() -> None:
    # The prompt is built from the lines near the cursor only: a huge document slices the same.
    small = split_lines("a = 1\n" * 100)
    huge = split_lines("a = 1\n" * 1_000_000)
    assert slice_context(small, 50, 2, 60, 60) == slice_context(huge, 50, 2, 60, 60)


def test_word_start() -> None:
    assert word_start("x = foo_1", 9) == 4
    assert word_start("x = foo", 6) == 4  # a word may end before the text does
    assert word_start("x = ", 4) == 4  # no word: the end itself
    assert word_start("", 0) == 0
    assert word_start("élan", 4) == 0  # letters beyond ASCII
    assert word_start("abcdef", 6, longest=3) == 3


def test_the_context_says_whether_each_window_was_cut_at_its_budget() -> None:
    lines = ["a = 1\n", "b = 2\n", "c = 3\n"]
    whole = slice_context(lines, 1, 2, 100, 100)
    assert not whole.prefix_cut and not whole.suffix_cut
    cut = slice_context(lines, 1, 2, 3, 6)
    assert cut.prompt == "b " and cut.prefix_cut
    assert cut.suffix == "= 2\n" and cut.suffix_cut
    # The cursor's own line alone is longer than the budget.
    long_line = slice_context(["x" * 50 + "\n"], 0, 40, 10, 5)
    assert long_line.prefix_cut and long_line.suffix_cut
