"""Golden cases: runaway repetition of a line or a block."""

from pp_cursor import at

from fim_lsp.postprocess import postprocess, repetition


def test_repeated_line_keeps_one_copy() -> None:
    line = "    self.assertEqual(a, b)"
    assert repetition.cut([line] * 4 + ["    self.ass"]) == 1
    assert repetition.cut([line] * 3) is None


def test_short_lines_need_more_copies() -> None:
    assert repetition.cut(["#endif"] * 4) is None
    assert repetition.cut(["#endif"] * 5) == 1
    assert repetition.cut(["0,"] * 5) is None
    assert repetition.cut(["{"] * 6) == 1
    assert repetition.cut([""] * 9) is None


def test_repeated_block_keeps_one_copy() -> None:
    block = ["    x = compute(a)", "    y = compute(b)"]
    assert repetition.cut(["    start()", *block * 3]) == 3


def test_runaway_body_line_in_pipeline() -> None:
    doc = "def f(a):\n    █\n\n\ndef g():\n    pass\n"
    raw = "return a\n" + "    return a\n" * 5 + "    ret"
    got = postprocess(raw, at(doc))
    assert got is not None and got.text == "return a"
