"""Golden cases: single-line or multi-line, from the cursor's context."""

import pytest
from pp_cursor import at, view

from fim_lsp.postprocess import postprocess
from fim_lsp.postprocess.mode import single_line


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("x = foo(█a)\n", "python"),  # text after the cursor stays on the line
        ("# explain █\n", "python"),  # a line comment ends with the line
        ("// explain █\n", "javascript"),
        ('x = "abc█\n', "python"),  # a one-line string
    ],
)
def test_single_line(doc: str, language: str) -> None:
    assert single_line(view(doc, language))


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("def f():█\n", "python"),  # an empty block after `:`
        ("function f() {█\n}\n", "javascript"),  # after `{`
        ("foo(█)\n", "python"),  # only closers after the cursor
        ("x = 1\n█", "python"),  # the end of the file
        ('def f():\n    """█\n', "python"),  # a docstring spans lines
        ("/* █\n", "c"),  # a block comment spans lines
    ],
)
def test_multi_line(doc: str, language: str) -> None:
    assert not single_line(view(doc, language))


def test_comment_completion_keeps_one_line() -> None:
    got = postprocess("the total\nx = 1", at("def f():\n    # compute █\n"))
    assert got is not None and got.text == "the total"


def test_rows_after_a_finished_trailing_comment_go_on_below_it() -> None:
    doc = "CODES = {\n    0x41: 0x41,  # LETTER A█\n    0x43: 0x43,  # LETTER C\n}\n"
    got = postprocess("\n    0x42: 0x42,  # LETTER B", at(doc))
    assert got is not None and got.text == "\n    0x42: 0x42,  # LETTER B"
    # Still writing the comment (a space before the cursor): its line only, here nothing.
    assert postprocess("\nx = 1", at("def f():\n    # compute █\n")) is None
    # Not a trailing comment's end: the comment text itself is completed.
    got = postprocess(" B\n    0x42: 0x42,", at(doc))
    assert got is not None and got.text == " B"


def test_never_keeps_one_line() -> None:
    from fim_lsp.context import FimContext

    ctx = FimContext("def f():\n    ", "\n", "python", multiline="never")
    assert postprocess("a = 1\n    return a", ctx) == postprocess("a = 1", ctx)
    # At the end of a `def` line the one line is the body's first, on its own line.
    ctx = FimContext("def f():", "\n", "python", multiline="never")
    got = postprocess("\n    a = 1\n    return a", ctx)
    assert got is not None and got.text == "\n    a = 1"


def test_always_lets_a_comment_go_on_with_code() -> None:
    from fim_lsp.context import FimContext

    doc = ("def f(rows):\n    # sort by name, then ", "\n    return rows\n")
    raw = "by age\n    rows.sort()"
    auto = postprocess(raw, FimContext(*doc, "python"))
    always = postprocess(raw, FimContext(*doc, "python", multiline="always"))
    assert auto is not None and auto.text == "by age"
    assert always is not None and always.text == raw
