"""Golden cases: multi-line suggestions end with their block."""

import pytest
from pp_cursor import at

from fim_lsp.postprocess import postprocess


def text_of(raw: str, doc: str, language: str = "python") -> str | None:
    got = postprocess(raw, at(doc, language))
    return None if got is None else got.text


def test_python_body_stops_at_dedent() -> None:
    doc = "def f(a):█\n\n\ndef g():\n    pass\n"
    raw = "\n    if a:\n        return 1\n\n    return 2\n\n\ndef h():\n    pass\n"
    assert text_of(raw, doc) == "\n    if a:\n        return 1\n\n    return 2"


def test_correct_body_with_blank_lines_and_docstring_is_kept() -> None:
    doc = "def f(a):█\n\n\ndef g():\n    pass\n"
    raw = '\n    """Doc.\n\nText at column 0 inside the docstring.\n    """\n\n    return a'
    assert text_of(raw, doc) == raw


def test_brace_block_closes_and_duplicate_closer_is_dropped() -> None:
    doc = "function f(a) {█\n}\n\nmodule.exports = f\n"
    raw = "\n  if (a) {\n    return 1\n  }\n  return 2\n}\n\nfunction g() {\n  return 3\n}\n"
    assert text_of(raw, doc, "javascript") == "\n  if (a) {\n    return 1\n  }\n  return 2"


def test_else_branch_continues_the_block() -> None:
    doc = "function f(a) {\n  if (a) {█\n}\n"
    raw = "\n    x = 1\n  } else {\n    x = 2\n  }\n  return x\n}"
    assert text_of(raw, doc, "javascript") == "\n    x = 1\n  } else {\n    x = 2\n  }"


def test_case_labels_and_preprocessor_lines_stay_in_a_c_block() -> None:
    doc = "int f(int x) {█\n}\n"
    raw = "\nswitch (x) {\ncase 1:\n#ifdef A\n\treturn 2;\n#endif\ndefault:\n\treturn 3;\n}"
    assert text_of(raw, doc, "c") == raw


def test_mid_statement_stops_at_the_next_statement() -> None:
    doc = "def f(a):\n    x = compute(a, █\n    return x\n"
    assert text_of("b)\n    y = 2\n    return y", doc) is not None
    assert text_of("b)\n    y = 2\n    return y", doc) == "b)"


def test_mid_block_stops_at_blank_line() -> None:
    doc = "def f(a):\n    █\n    return a\n"
    assert text_of("a += 1\n    a *= 2\n\n    log(a)", doc) == "a += 1\n    a *= 2"


def test_closing_line_of_an_outer_block_is_dropped_mid_block() -> None:
    doc = "function f(a) {\n  █\n  return a\n}\n"
    assert text_of("a += 1\n}\n\nfunction g() {}", doc, "javascript") == "a += 1"


@pytest.mark.parametrize("language", ["python", "javascript", "c"])
def test_multi_line_call_arguments_are_kept(language: str) -> None:
    doc = "x = foo(█\nbar()\n"
    raw = "\n    a,\n    b,\n)"
    assert text_of(raw, doc, language) == raw


def test_lines_inside_an_open_paren_must_be_deeper() -> None:
    doc = "    check(a, █)\n    other()\n"
    assert text_of("b\n    check(a, b)", doc) == "b)"


def test_namespace_body_at_column_zero_is_kept() -> None:
    doc = "namespace llvm {█\n} // namespace llvm\n"
    raw = "\n\nclass Foo;\nint bar();\n"
    assert text_of(raw, doc, "cpp") == "\n\nclass Foo;\nint bar();"


def test_docstring_line_stops_where_text_leaves_the_docstring() -> None:
    doc = 'class A:\n    def f(self):\n        """Return the █\n        """\n'
    assert text_of("value.\n\n    def g(self):\n        pass", doc) == "value."


# The document after the cursor may be shallower than the cursor's line: the user is filling in
# the code between (the end of a loop, a function). Lines down to that level finish the blocks.
def test_a_dedent_into_the_gap_before_the_document_goes_on_is_kept() -> None:
    doc = "def f(caps):\n    for key in caps:\n        caps[key] += 1█\n\n\ndef g():\n    pass\n"
    assert text_of("\n    return caps", doc) == "\n    return caps"
    assert text_of("\n    return caps\n\n\ndef h():\n    pass", doc) == "\n    return caps"


def test_a_dedent_to_the_level_the_document_goes_on_at_is_kept() -> None:
    doc = "def find(path):\n    if path:\n        return path█\n    return None\n"
    assert text_of('\n    log.debug("none")', doc) == '\n    log.debug("none")'
    # Down to the document's own next line, which is not repeated.
    assert text_of('\n    log.debug("none")\n    return None', doc) == '\n    log.debug("none")'


def test_a_dedent_after_a_blank_line_is_code_the_model_ran_on_into() -> None:
    doc = "def f():\n    class E:\n        def m(self, key):\n            █\n    e = E()\n"
    raw = "raise KeyError(key)\n\n        def _extra(value):\n            return value\n"
    assert text_of(raw, doc) == "raise KeyError(key)"


def test_a_dedented_opener_whose_body_the_document_holds_bridges_to_it() -> None:
    doc = "while i < n:\n    if a:\n        k = 1\n    elif b:\n        k = 2█\n        done()\n"
    assert text_of("\n    elif c:", doc) == "\n    elif c:"
    # The bridge ends the suggestion: the body is the document's.
    assert text_of("\n    elif c:\n        done()\n    else:", doc) == "\n    elif c:"


def test_a_dedent_where_the_document_goes_on_deeper_is_cut() -> None:
    doc = "def f(a):\n    if a:\n        x = 1█\n        y = 2\n"
    assert text_of("\n    return x", doc) is None
    assert text_of("\n        z = 3\n    return x", doc) == "\n        z = 3"


def test_a_dedent_before_a_closing_bracket_is_not_a_gap() -> None:
    # The `}` after the cursor closes the cursor's block: a shallower line still sits inside it.
    doc = "function f(a) {\n  if (a) {\n    x = 1;█\n  }\n  return x;\n}\n"
    assert text_of("\n  y = 2;", doc, "javascript") is None
