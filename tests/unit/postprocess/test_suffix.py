"""Golden cases: stop where the suggestion starts repeating the lines after the cursor."""

from pp_cursor import at, view

from fim_lsp.postprocess import postprocess, suffix


def test_exact_repeat_of_next_line() -> None:
    doc = "def f(x):\n    y = x + 1█\n    return y * 2\n"
    got = postprocess("\n    z = y\n    return y * 2\n", at(doc))
    assert got is not None and got.text == "\n    z = y"


def test_near_repeat_of_next_line() -> None:
    doc = "def f(x):\n    █\n    return compute_total(x, y)\n"
    got = postprocess("y = 1\n    return compute_totl(x, y)", at(doc))
    assert got is not None and got.text == "y = 1"


def test_whole_suggestion_repeats_next_line() -> None:
    doc = "def f(x):\n    █\n    return compute_total(x, y)\n"
    assert postprocess("return compute_total(x, y)", at(doc)) is None


def test_short_line_needs_a_second_line() -> None:
    v = view("for x in y:\n    if x:\n        █\n        break\n    print(x)\n")
    # `break` alone could be the answer's own line; followed by the next document line it is an echo.
    assert suffix.cut(["f(x)", "        break", "    g(x)"], v) is None
    assert suffix.cut(["f(x)", "        break", "    print(x)"], v) == 1


def test_same_text_at_another_indentation_is_not_a_repeat() -> None:
    doc = "def f(a):\n    if a:█\n    return foo(a, b)\n"
    got = postprocess("\n        return foo(a, b)", at(doc))
    assert got is not None and got.text == "\n        return foo(a, b)"


def test_edit_distance() -> None:
    assert suffix.edit_distance("kitten", "sitting", 5) == 3
    assert suffix.edit_distance("abc", "abcdefgh", 2) == 3


def test_table_rows_that_differ_in_their_numbers_are_not_an_echo() -> None:
    doc = "CODES = [\n    █\n    (0x0043, 'LATIN CAPITAL LETTER C'),\n]\n"
    raw = "(0x0042, 'LATIN CAPITAL LETTER B'),"
    got = postprocess(raw, at(doc))
    assert got is not None and got.text == raw
