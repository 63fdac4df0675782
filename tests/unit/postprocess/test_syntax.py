"""The scanner: brackets, strings and comments, line by line."""

from fim_lsp.postprocess._syntax import Scanner, syntax_of


def scan(text: str, language: str) -> Scanner:
    s = Scanner(syntax_of(language))
    s.feed_lines(text)
    return s


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    assert scan('f("(", x)  # (', "python").depth == 0
    assert scan("f('(', /* ( */ x) // (", "c").depth == 0


def test_unmatched_closers_count_negative() -> None:
    assert scan("a)]", "python").depth == -2


def test_multi_line_strings_and_comments_carry_over() -> None:
    assert scan('x = """\n(', "python").string == '"""'
    assert scan("/* (\n", "c").in_block_comment
    assert scan("s = `a\n(", "javascript").string == "`"


def test_one_line_strings_end_with_the_line_unless_continued() -> None:
    assert scan('x = "abc\n', "python").string is None
    assert scan('x = "abc\\\n', "python").string == '"'


def test_apostrophes_in_rust_are_not_quotes() -> None:
    assert scan("fn f<'a>(x: &'a str) {", "rust").depth == 1
