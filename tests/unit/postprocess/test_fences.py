"""Golden cases: markdown code fences and the chat prose around them."""

from pp_cursor import at, view

from fim_lsp.postprocess import postprocess, stream_done
from fim_lsp.postprocess.fences import closed, pending, strip


def test_fence_lines_and_what_follows_are_removed() -> None:
    v = view("def f(x):\n    █\n")
    assert strip("```python\nreturn x\n```\nThis returns x.", v) == "return x"


def test_prose_before_the_fence_is_removed() -> None:
    v = view("def f(x):\n    █\n")
    assert strip("Here is the body:\n\n```py\n    return x\n```", v) == "return x"


def test_text_without_a_fence_is_untouched() -> None:
    v = view("def f(x):\n    █\n")
    assert strip("y = x  # Here is x:\nreturn y", v) == "y = x  # Here is x:\nreturn y"


def test_a_chat_lead_in_line_goes_without_a_fence_too() -> None:
    v = view("def f(x):\n    █\n")
    assert strip("Here is x:\nreturn x", v) == "return x"
    assert strip("Sure! Here's the body.\n\n    return x", v) == "    return x"
    # Only the lead-in: what follows is not known yet (or it is the whole answer).
    assert strip("Here is x:", v) == "Here is x:"
    # Mid-line the user is writing the line: nothing is dropped.
    assert strip("here is\nx", view("s = █\n")) == "here is\nx"


def test_a_fence_in_a_markdown_document_is_content() -> None:
    v = view("# Usage\n\n█", "markdown")
    assert strip("```sh\npip install x\n```", v) == "```sh\npip install x\n```"
    # ...unless the whole answer is wrapped as markdown.
    assert strip("```markdown\n- a\n- b\n```", v) == "- a\n- b"


def test_streams_wait_for_the_fence_after_prose_and_stop_at_its_end() -> None:
    v = view("def f(x):\n    █\n")
    assert pending("Sure! Here is the code:\n", v)
    assert not pending("return x\n", v)
    assert not closed("```py\nreturn x\n", v)
    assert closed("```py\nreturn x\n```\n", v)
    ctx = at("def f(x):\n    █\n")
    assert stream_done("```py\nreturn x\n```\nMore text", ctx)


def test_a_re_typed_signature_is_dropped() -> None:
    doc = "def area(r):\n    █\n"
    got = postprocess("```python\ndef area(r):\n    return 3.14 * r * r\n```", at(doc))
    assert got is not None and got.text == "return 3.14 * r * r"
