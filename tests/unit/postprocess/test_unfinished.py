"""Golden cases: a last line the token limit cut short."""

from pp_cursor import at

from fim_lsp.postprocess import postprocess


def test_last_line_left_open_is_dropped() -> None:
    got = postprocess("a = f(1)\n    b = g(2, ", at("def f():\n    █\n"))
    assert got is not None and got.text == "a = f(1)\n    b = g(2, "
    got = postprocess("a = f(1)\n    b = g(h(2", at("def f():\n    █\n"))
    assert got is not None and got.text == "a = f(1)"


def test_last_line_that_closes_what_it_opens_stays() -> None:
    got = postprocess("a = f(1)\n    b = g(2)", at("def f():\n    █\n"))
    assert got is not None and got.text == "a = f(1)\n    b = g(2)"


def test_a_one_line_answer_is_not_judged() -> None:
    got = postprocess("f(1", at("def f():\n    █\n"))
    assert got is not None and got.text == "f(1"


def test_an_answer_stopped_inside_a_block_it_opened_ends_before_it() -> None:
    doc = "function f() {\n  █\n}\n"
    got = postprocess("a();\n  for (;;) {\n    b();", at(doc, "javascript"))
    assert got is not None and got.text == "a();"
    got = postprocess("a();\n  if (x) {", at(doc, "javascript"))
    assert got is not None and got.text == "a();"
    # Closed again before the end: the whole answer stays.
    got = postprocess("a();\n  if (x) {\n    b();\n  }", at(doc, "javascript"))
    assert got is not None and got.text == "a();\n  if (x) {\n    b();\n  }"


def test_a_block_whose_body_the_document_holds_stays_open() -> None:
    doc = "function f() {\n  █\n    b();\n  }\n}\n"
    got = postprocess("a();\n  if (x) {", at(doc, "javascript"))
    assert got is not None and got.text == "a();\n  if (x) {"
