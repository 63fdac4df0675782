"""Golden cases: the document's indentation unit and line ending."""

from pp_cursor import at, view

from fim_lsp.postprocess import postprocess
from fim_lsp.postprocess.layout import indentation, line_endings

TABS = "".join(f"int f{i}(void) {{\n\tint x = {i};\n\treturn x;\n}}\n" for i in range(5))
SPACES = "".join(f"def f{i}():\n    x = {i}\n    return x\n\n" for i in range(5))


def test_spaces_become_tabs_in_a_tab_file() -> None:
    v = view(TABS + "int d(void) {█\n}\n", "c")
    assert indentation("\n    if (x) {\n        y();\n    }", v) == "\n\tif (x) {\n\t\ty();\n\t}"


def test_tabs_become_spaces_in_a_space_file() -> None:
    doc = SPACES + "def d():█\n"
    assert indentation("\n\tif x:\n\t\treturn 1", view(doc)) == "\n    if x:\n        return 1"


def test_mixed_file_is_left_alone() -> None:
    doc = "f() {\n\tx;\n    y;\n\tz;\n    w;\n}\ng() {█\n}\n"
    text = "\n\ta;\n    b;"
    assert indentation(text, view(doc, "c")) == text


def test_crlf_document_gets_crlf() -> None:
    v = view("def f():\r\n    █\r\n", "python")
    assert line_endings("a\nb", v) == "a\r\nb"
    got = postprocess("x = 1\n    return x", at("def f():\r\n    █\r\n"))
    assert got is not None and got.text == "x = 1\r\n    return x"


def test_lines_before_are_whole_lines_nearest_last() -> None:
    v = view("a\nb\nc\n  d█\n")
    assert v.lines_before(2) == ["b", "c"]
    assert v.lines_before(10) == ["a", "b", "c"]
    assert view("x█\n").lines_before(3) == []
