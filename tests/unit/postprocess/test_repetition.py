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


def test_near_copies_with_changing_names_keep_the_first() -> None:
    block = ["def test_{n}():", "    assert add({n}, {n}) == {m}", "", ""]
    lines = [ln.format(n=n, m=2 * n) for n in range(2, 6) for ln in block]
    assert repetition.near_cut(lines, final=False) == 4


def test_a_copy_cut_short_counts_only_at_the_end() -> None:
    block = ["func Test{n}(t *testing.T) {{", "\tcheck({n})", "}}", ""]
    lines = [ln.format(n=n) for n in range(2, 5) for ln in block] + ["func Test5(t *testing.T) {"]
    assert repetition.near_cut(lines, final=True) == 4
    assert repetition.near_cut(lines, final=False) is None


def test_lines_counting_up_need_a_long_run() -> None:
    ports = [f'  - "{3000 + n}:{3000 + n}"' for n in range(1, 7)]
    assert repetition.near_cut(ports, final=False) == 1
    assert repetition.near_cut(ports[:4], final=False) is None
    # Same shape, different names: a table, not a loop.
    fields = [f"    self.{c} = {c}" for c in "abcdefg"]
    assert repetition.near_cut(fields, final=True) is None
    # Items of a numeric literal counting up are data, not a loop.
    items = ["DELAYS = [", *(f"    {100 * n}," for n in range(1, 8)), "]"]
    assert repetition.near_cut(items, final=True) is None
    assert repetition.near_cut([f"    [{n}, {n + 1}]," for n in range(7)], final=False) is None


def test_phrase_looping_within_a_line() -> None:
    assert repetition.in_line("    total = total = total = total = tot") == 12
    assert repetition.in_line("    a = b = c = 0") is None
    assert repetition.in_line("    return (None, None, None, None)") is None
    assert postprocess("x = x = x = x = x = x", at("def f():\n    x = █\n")) is None


def test_rows_of_cells_are_not_a_looping_phrase() -> None:
    cells = '<td class="x"></td><td class="x"></td><td class="x"></td>'
    assert repetition.in_line(cells) is None
    sentence = "It is fast. " * 3
    assert repetition.in_line("Note: " + sentence) is None  # a unit shorter than a sentence
    long = "It takes well under a millisecond. " * 3
    assert repetition.in_line(long) == len("It takes well under a millisecond. ")
