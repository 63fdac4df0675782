"""Golden cases: the rest of the cursor's line (auto-closed brackets, repeated text)."""

import pytest
from pp_cursor import at

from fim_lsp.postprocess import Suggestion, postprocess


@pytest.mark.parametrize(
    ("doc", "raw", "want"),
    [
        # The editor auto-closed `)`: the suggestion covers it and ends with it once.
        ("x = foo(█)\n", "a, b", Suggestion("a, b)", 1)),
        ("x = foo(█)\n", "a, b)", Suggestion("a, b)", 1)),
        # A correct answer that contains its own closer keeps both.
        ("x = foo(█)\n", "bar(x)", Suggestion("bar(x))", 1)),
        ("x = foo(bar(█))\n", "x", Suggestion("x))", 2)),
        ("x = foo(bar(█))\n", "x))", Suggestion("x))", 2)),
        ("x = foo(bar(█))\n", "x)", Suggestion("x))", 2)),
        # The model typed past the closers: its own tail holds them.
        ("def f(█):\n", "a, b):", Suggestion("a, b):", 2)),
        ("def f(█)\n", "a, b):", Suggestion("a, b):", 1)),
        # Quotes too.
        ('print("█")\n', 'hello")', Suggestion('hello")', 2)),
        # No `;;`.
        ("const x = █;\n", "foo();", Suggestion("foo();", 1)),
    ],
)
def test_closers(doc: str, raw: str, want: Suggestion) -> None:
    language = "javascript" if "const" in doc else "python"
    assert postprocess(raw, at(doc, language)) == want


def test_closing_an_outer_bracket_opened_on_an_earlier_line() -> None:
    # The next line closes `assertTrue(`: the model's `)` repeats the auto-closed one.
    doc = "self.assertTrue(\n    f(x, █)\n)\nz = 1\n"
    assert postprocess("y)", at(doc)) == Suggestion("y)", 1)
    # Nothing later closes `assertTrue(`: the second `)` is the answer's own.
    doc = "self.assertTrue(\n    f(x, █)\nz = 1\n"
    assert postprocess("y)", at(doc)) == Suggestion("y))", 1)


def test_block_brace_is_not_closed_mid_line() -> None:
    doc = "function f() {\n  const o = { █}\n  return o\n}\n"
    assert postprocess("a: 1 }", at(doc, "javascript")) == Suggestion("a: 1 }", 1)


def test_multi_line_call_over_auto_closed_bracket() -> None:
    assert postprocess("\n    a,\n    b,\n", at("x = foo(█)\n")) == Suggestion(
        "\n    a,\n    b,\n)", 1
    )


@pytest.mark.parametrize(
    ("doc", "raw", "want"),
    [
        # Text after the cursor is not repeated.
        ("x = █ + 1\n", "a + 1", "a"),
        ("foo(█, c)\n", "a, b, c)", "a, b"),
        # Mid-line: one line only.
        ("x = █ + 1\n", "a\ny = 2", "a"),
    ],
)
def test_repeated_rest(doc: str, raw: str, want: str) -> None:
    got = postprocess(raw, at(doc))
    assert got is not None and got.text == want and got.replace == 0


def test_trailing_newline_after_the_closers_does_not_push_them_down() -> None:
    from fim_lsp.context import FimContext
    from fim_lsp.postprocess import Suggestion, postprocess

    ctx = FimContext("print(", ")\nnext_line = 1\n")
    assert postprocess('"hello")\n', ctx) == Suggestion('"hello")', 1)
    assert postprocess("1, 2)\n", FimContext("x = add(", ")\n")) == Suggestion("1, 2)", 1)


@pytest.mark.parametrize(
    ("doc", "raw", "language", "line"),
    [
        # The model closes the auto-inserted closers in the middle of its text.
        ("    i = p.rfind(█)\n", "sep) + 1", "python", "    i = p.rfind(sep) + 1"),
        ('  console.log("█");\n', 'total: ", n);', "javascript", '  console.log("total: ", n);'),
        ("  return MAX(MIN(█));\n", "v, hi), lo", "c", "  return MAX(MIN(v, hi), lo);"),
        ("  x = f(█);\n", "a);\n", "javascript", "  x = f(a);"),
        ("std::vector<█> xs;\n", "int>", "cpp", "std::vector<int> xs;"),
        # Mid-line: the model re-types the rest whole, in part, or with its closers.
        ('  plot(x, █, "r-", label="fit")\n', 'y, "r-")', "python", '  plot(x, y, "r-", label="fit")'),
        ("  let n = s.rfind(█).map(f);\n", "'/')", "rust", "  let n = s.rfind('/').map(f);"),
        ("m.map(|w| █).collect::<Vec<_>>()\n", "w.len()).collect()", "rust",
         "m.map(|w| w.len()).collect::<Vec<_>>()"),
    ],
)  # fmt: skip
def test_closers_mid_text_and_retyped_rest(doc: str, raw: str, language: str, line: str) -> None:
    ctx = at(doc, language)
    got = postprocess(raw, ctx)
    assert got is not None
    cursor = len(ctx.prompt)
    after = ctx.prompt + got.text + ctx.suffix[got.replace :]
    assert after.split("\n")[0] == line, cursor
