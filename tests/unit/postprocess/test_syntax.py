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


def test_window_that_starts_inside_a_docstring() -> None:
    from fim_lsp.context import FimContext
    from fim_lsp.postprocess._view import view_of

    prose = "    Return the value of the thing, or nothing at all\n    when it is not there.\n" * 60
    prefix = prose + '    """\n    return x\n\ndef g():\n    '
    view = view_of(FimContext(prefix, "\n", "python", prefix_cut=True))
    assert view.at_cursor.in_code


def test_template_literal_expressions_are_code() -> None:
    s = scan("const a = `x ${f({ b: 1 })} y`; g(", "javascript")
    assert s.string is None and s.depth == 1


def test_regex_literals_hide_their_brackets_and_quotes() -> None:
    assert scan('const m = s.match(/"[$]base([^"]+?)"/)', "javascript").depth == 0
    assert scan("x = a / b / (c", "javascript").depth == 1


def test_rust_char_literals_hide_their_brackets_but_lifetimes_are_not_strings() -> None:
    line = "match c { '(' => 1, '\\'' => 2, _ => 3 } fn f<'a>(x: &'a str) {"
    assert scan(line, "rust").stack == ["{"]


def test_shell_case_patterns_and_here_documents() -> None:
    assert scan("    start)", "shellscript").depth == 0
    assert scan("    x=$((a + 1))", "shellscript").depth == 0
    from fim_lsp.postprocess._syntax import Scanner, syntax_of

    scanner = Scanner(syntax_of("shellscript"))
    scanner.feed_lines("cat <<EOF\n{ not code (\nEOF\necho (")
    assert scanner.stack == ["("]
