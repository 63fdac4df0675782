"""Golden cases: whitespace where the suggestion meets the document."""

import pytest
from pp_cursor import at, view

from fim_lsp.postprocess import Suggestion, postprocess
from fim_lsp.postprocess.seam import trim_end, trim_start


@pytest.mark.parametrize(
    ("doc", "raw", "want"),
    [
        # The prefix ends with a space: the model's leading space doubles it.
        ("x = █\n", " 1", "1"),
        # Member access: no space after the dot.
        ("self.█\n", " value", "value"),
        # After an opening bracket, in a file that never writes `( x`.
        ("foo(█)\n", " a", "a"),
        # On an empty indented line, a leading newline would skip the line the cursor is on.
        ("def f():\n    █\n", "\n    return 1", "return 1"),
        ("def f():\n    █\n", "\n\n    return 1", "return 1"),
        # One space more than the editor's indentation lands between levels.
        ("def f():\n    x = 1\n    █\n", " return x", "return x"),
        # Spaces before the first newline would be trailing whitespace on the cursor's line.
        ("def f():█\n", "  \n    return 1", "\n    return 1"),
        # One space after tab indentation, or at column 0, is never indentation.
        ("struct s {\n\t█\n};\n", " int a;", "int a;"),
        ("import os\n\n█\n", " import sys", "import sys"),
        # No space before a comma, a semicolon or a closer.
        ("f(a█)\n", " , b", ", b"),
        ("    break█\n", " ;", ";"),
        # The space would split the word being typed (the whole word is used nearby).
        ("return_value = 1\nprint(retur█)\n", " n_value", "n_value"),
        ("exports.int32ToIpv4 = f\nx = int32ToIpv█\n", " 4", "4"),
        # After a `{` that ends the line, an indented line with its line break left out.
        ("  if (ready) {█\n  }\n", "    start();", "\n    start();"),
        ("fn f() {█\n}\n", "\tx", "\n\tx"),
        # A tab after the space the user typed doubles the gap.
        ("const x = █\n", "\t1337;", "1337;"),
    ],
)
def test_trim_start(doc: str, raw: str, want: str) -> None:
    assert trim_start(raw, view(doc)) == want


@pytest.mark.parametrize(
    ("doc", "raw"),
    [
        # A space after a keyword is the answer, not noise.
        ("return█\n", " x"),
        # `from . import x`: the dot is not member access.
        ("from .█\n", " import x"),
        # Two spaces typed already: the user aligns columns.
        ("#define A  1\n#define LONGER█\n", " 2"),
        # The file aligns with runs of spaces: a doubled space may be meant.
        ("A   = 1\nBB  = 2\nCCC █\n", " = 3"),
        # After a sentence, prose may use two spaces.
        ("# Done. █\n", " Next"),
        # Inside a string the text is data.
        ('x = "a █\n', " b"),
        # A file that writes `( x )` keeps its style.
        ("foo( a )\nbar(█\n", " b )"),
        # A type before a name (C declarations), a keyword before a name.
        ("size_t n;\nsize_t█\n", " m;"),
        ("def f():\n    return█\n", " x"),
        # A block comment's star lines line up one space in.
        ("/*\n█\n", " * text"),
        # Text after the cursor on its line, or spaces no deeper than the line's own: no line
        # break was left out.
        ("int zero(void) {█ }\n", "  return 0;"),
        ("    if (x) {█\n", "  y();"),
        ('s = "{█\n', "    x"),
        # In a string, or after a tab already there, a tab is the text's own.
        ('s = "a █\n', "\tb"),
        ("a\t█\n", "\tb"),
    ],
)
def test_trim_start_keeps_meant_spaces(doc: str, raw: str) -> None:
    assert trim_start(raw, view(doc)) == raw


def test_trim_end_drops_trailing_blank_lines_at_line_end() -> None:
    assert trim_end("return 1\n\n  ", view("def f():\n    █\n")) == "return 1"


def test_trim_end_keeps_trailing_spaces_on_the_line() -> None:
    assert trim_end("x  ", view("█\n")) == "x  "


def test_trim_end_keeps_newline_before_text_that_stays() -> None:
    # `foo(\n    a,\n)` typed over an auto-closed `)`: the final newline puts `)` on its own line.
    assert trim_end("\n    a,\n", view("foo(█)\n")) == "\n    a,\n"


def test_postprocess_keeps_crlf_and_tabs() -> None:
    doc = "int f(void)\r\n{\r\n\tint x;\r\n\tint y;\r\n\tint z;\r\n\tif (x) {█\r\n\t}\r\n}\r\n"
    got = postprocess("\n\t\treturn 1;\n\t}", at(doc, "c"))
    assert got == Suggestion("\r\n\t\treturn 1;", 0)


def test_codestral_quirks() -> None:
    from pp_cursor import at

    from fim_lsp.postprocess import postprocess

    # A leading newline at the end of the file where a value must follow.
    got = postprocess("\nos.getcwd()", at("import os\npath = █"))
    assert got is not None and got.text == "os.getcwd()"
    # ...but not after a line that opens a block.
    got = postprocess("\n    return 1", at("def f():█"))
    assert got is not None and got.text == "\n    return 1"
    # The indentation re-sent on an indented empty line.
    got = postprocess("    return 1", at("def f():\n    █\n"))
    assert got is not None and got.text == "return 1"


def test_stray_space_inside_a_word_of_a_comment() -> None:
    from pp_cursor import at

    from fim_lsp.postprocess import postprocess

    doc = "module = load()\n# put the mod█\n"
    got = postprocess(" ule in the cache", at(doc))
    assert got is not None and got.text == "ule in the cache"
    # A new word in prose keeps its space.
    got = postprocess(" in the cache", at("x = 1\n# put it█\n"))
    assert got is not None and got.text == " in the cache"


def test_leading_newline_before_a_closer_is_not_joined() -> None:
    from pp_cursor import at

    from fim_lsp.postprocess import postprocess

    got = postprocess("\n}", at("func f() {\n\treturn █", "go"))
    assert got is None or not got.text.startswith("}")


def test_indentation_into_a_block_the_cursor_line_is_not_in_yet_is_kept() -> None:
    from pp_cursor import at

    from fim_lsp.postprocess import postprocess

    # The editor left the cursor at the `if`'s level: the model's four spaces indent the body.
    got = postprocess("    y = 1", at("def f(x):\n    if x:\n    █\n"))
    assert got is not None and got.text == "    y = 1"


@pytest.mark.parametrize(
    ("doc", "raw", "want", "language"),
    [
        # Spaces before a line break are trailing whitespace in the file.
        ("if (ok) {\n  █\n}\n", "a(); \n  b();\t\n  c(); ", "a();\n  b();\n  c();", "javascript"),
        # On the last line a space stays where the user may go on typing (`g(2, `)...
        ("x = █\n", "g(2, ", "g(2, ", "javascript"),
        ("x = █\n", "a + ", "a + ", "python"),
        # ...but not after a finished statement or a closer.
        ("x = █\n", "g(2) ", "g(2)", "javascript"),
        ("x := █\n", "2\t", "2", "go"),
        # Before a rest of the line that starts with a space, the suggestion's own space goes.
        ("sum(█ tax)\n", "price, ", "price,", "javascript"),
        # In a string the space is text.
        ('s = "a█ b"\n', "nd ", "nd ", "javascript"),
        ("def f():\n    █\n", "x = 1  \n    \n    return x", "x = 1\n\n    return x", "python"),
        # Inside a string that goes on over the break, the spaces are its text.
        ("s = █\n", "`a  \nb`", "`a  \nb`", "javascript"),
        ("s = █\n", '"""a  \nb"""', '"""a  \nb"""', "python"),
        # Markdown breaks a line with two trailing spaces.
        ("Intro█\n", "  \nMore text.  \nEnd.", "  \nMore text.  \nEnd.", "markdown"),
    ],
)
def test_trim_end_drops_spaces_before_line_breaks_in_code(
    doc: str, raw: str, want: str, language: str
) -> None:
    assert trim_end(raw, view(doc, language)) == want
