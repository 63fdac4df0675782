"""Golden cases for the whole pipeline, and the contract of `stream_done`."""

import pytest
from pp_cursor import at

from fim_lsp.context import FimContext
from fim_lsp.postprocess import Suggestion, postprocess, stream_done

CLEAN = [
    # A correct multi-line body.
    (
        "def area(r):█\n\n\nprint(area(2))\n",
        "\n    pi = 3.14159\n\n    return pi * r * r",
        "python",
    ),
    # A correct line that contains `)` and `:`.
    ("for i in █\n    print(i)\n", "range(len(items)):", "python"),
    # A correct line with its own closing brackets, then more code.
    ("x = █\n", "[f(a) for a in (1, 2)]", "python"),
    ("if (ok) {█\n}\n", "\n  run(() => { done() })", "javascript"),
    ("struct s {█\n};\n", "\n\tint a;\n\tchar *b;", "c"),
]


@pytest.mark.parametrize(("doc", "raw", "language"), CLEAN)
def test_clean_answers_are_untouched(doc: str, raw: str, language: str) -> None:
    assert postprocess(raw, at(doc, language)) == Suggestion(raw, 0)


def stream(raw: str, ctx: FimContext, size: int = 3) -> tuple[str, Suggestion | None]:
    """Feed `raw` in deltas as the server does; return the text read and its suggestion."""
    text = ""
    for i in range(0, len(raw), size):
        text = raw[: i + size]
        if stream_done(text, ctx):
            break
    return text, postprocess(text, ctx)


NOISY = [
    ("def f(a):\n    █\n    return a\n", "a += 1\n    return a\n    return a\n\ndef g(): pass"),
    ("function f() {█\n}\n", "\n  return 1\n}\n\nfunction g() {\n  return 2\n}\n"),
    ("x = foo(█)\n", "a, b)\ny = 2\nz = 3\n"),
    ("# comment █\nx = 1\n", "text\nmore text\n"),
    ("def f(a):\n    █\n", "x = 1\n" + "    x = 1\n" * 8),
]


@pytest.mark.parametrize(("doc", "raw"), NOISY)
def test_stream_done_keeps_the_result(doc: str, raw: str) -> None:
    ctx = at(doc)
    for size in (1, 2, 5, 7):
        _text, got = stream(raw, ctx, size)
        assert got == postprocess(raw, ctx)


def test_stream_done_stops_early() -> None:
    ctx = at("x = foo(█)\n")
    text, _ = stream("a, b)\ny = 2\nz = 3\n" + "w = 4\n" * 50, ctx)
    assert len(text) < 20


def test_stream_done_waits_without_a_full_line() -> None:
    assert not stream_done("a, b", at("x = foo(█)\n"))


def test_a_minified_line_costs_a_bounded_look_for_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loop check (a regex with a back-reference, about 1.4 µs a character) looks at the end
    # of the cursor's line only: a minified line may fill the whole window, on every delta.
    from fim_lsp.postprocess import repetition

    seen: list[int] = []
    real = repetition.in_line

    def counted(line: str) -> int | None:
        seen.append(len(line))
        return real(line)

    monkeypatch.setattr(repetition, "in_line", counted)
    minified = "var a=" + ",".join(f"x{i}" for i in range(3000)) + "█;\n"
    ctx = at(minified, "javascript")
    looping = ",y = y = y = y = y = y"
    result = postprocess(looping, ctx)
    stream(looping + "\nfoo()\n", ctx)
    assert seen and max(seen) <= 1000 + len(looping) + len("\nfoo()\n")
    # The loop the suggestion runs into is still cut after its first copy.
    assert result is not None and result.text.count("y =") == 1, result
