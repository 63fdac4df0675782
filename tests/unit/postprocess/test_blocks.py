"""Golden cases: blocks that end with a word or a tag, and block ends decided by bracket balance."""

import pytest
from pp_cursor import at, view

from fim_lsp.postprocess import postprocess
from fim_lsp.postprocess.blocks import state


@pytest.mark.parametrize(
    ("doc", "line", "language", "want"),
    [
        ("if [ -f x ]; then\n    █\nfi\n", "fi", "shellscript", "duplicate"),
        ("if [ -f x ]; then\n    █\n", "fi", "shellscript", "missing"),
        ("case $1 in\n    a) b ;;\n    █\n", "esac", "shellscript", "missing"),
        ("def f\n  if x\n    █\n  end\nend\n", "  end", "ruby", "duplicate"),
        ("def f\n  if x\n    █\nend\n", "  end", "ruby", "missing"),
        ("  <div>\n    █\n", "  </div>", "typescriptreact", "missing"),
        ("x = 1\n█\n", "fi", "python", None),
    ],
)
def test_block_end_state(doc: str, line: str, language: str, want: str | None) -> None:
    assert state([""], line, view(doc, language)) == want


def test_a_block_the_suggestion_opened_is_its_own() -> None:
    v = view("def f(n)\n  █\nend\n", "ruby")
    assert state(["  if n.zero?", '    "none"'], "  end", v) is None


def test_brace_the_document_lacks_is_kept_one_it_has_is_dropped() -> None:
    missing = "func Add(a, b int) int {\n\treturn a + b█"
    got = postprocess("\n}", at(missing, "go"))
    assert got is not None and got.text == "\n}"
    assert postprocess("\n}", at(missing + "\n}\n", "go")) is None


def test_closer_of_an_inner_block_at_another_indentation_is_kept() -> None:
    doc = "int f(int x) {\n    if (x > 0) {\n        x = x * 2;█\n}\n"
    got = postprocess("\n    }\n    return x;\n}", at(doc, "c"))
    assert got is not None and got.text == "\n    }\n    return x;"


def test_lone_keyword_end_the_document_has_is_nothing() -> None:
    assert postprocess("end", at("def close\n  @io.close\n  █\nend\n", "ruby")) is None
    assert postprocess("fi", at("if a; then\n  if b; then\n    c\n  █\nfi\n", "shellscript"))


def test_closer_of_a_bracket_opened_before_the_window_is_left_to_the_document_text() -> None:
    from fim_lsp.context import FimContext

    # `extern "C" {` stands above the prefix window; the document after the cursor has no `}`.
    prompt = "int f(void);\nint g(void);\n\n#ifdef __cplusplus\n"
    ctx = FimContext(prompt, "\n#endif\n", "c", prefix_cut=True)
    got = postprocess("}\n\nstatic int h(void) { return 0; }\n", ctx)
    assert got is not None and got.text == "}"
    # The suffix closes every bracket the window saw open: a closer inside it is doubled.
    ctx = FimContext("void f(void)\n{\n    int x = 1;\n", "}\n", "c", prefix_cut=True)
    assert postprocess("}", ctx) is None
