"""Golden cases: a closing line the document already has is dropped."""

from pp_cursor import view

from fim_lsp.postprocess.closing import drop_duplicate


def test_duplicate_closer_is_dropped() -> None:
    v = view("function f() {█\n}\n", "javascript")
    assert drop_duplicate("\n  return 1\n}", v) == "\n  return 1"


def test_closer_written_at_another_indentation_is_still_a_duplicate() -> None:
    v = view("class A {\n  f() {\n    █\n  }\n}\n", "javascript")
    assert drop_duplicate("return 1\n}", v) == "return 1"


def test_nested_block_closer_is_the_answers_own() -> None:
    v = view("function f() {█\n}\n", "javascript")
    text = "\n  if (a) {\n    b()\n  }"
    assert drop_duplicate(text, v) == text


def test_closer_kept_when_document_has_none() -> None:
    v = view("function f() {█\n\nmodule.exports = f\n", "javascript")
    assert drop_duplicate("\n  return 1\n}", v) == "\n  return 1\n}"
