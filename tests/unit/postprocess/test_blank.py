"""Golden cases: empty and whitespace-only suggestions are dropped."""

import pytest
from pp_cursor import at

from fim_lsp.postprocess import postprocess
from fim_lsp.postprocess.blank import is_empty


@pytest.mark.parametrize("text", ["", " ", "\n", "\t\n  \n", "\r\n"])
def test_whitespace_is_empty(text: str) -> None:
    assert is_empty(text)
    assert postprocess(text, at("x = █\n")) is None


def test_text_is_not_empty() -> None:
    assert not is_empty(" x ")


def test_suggestion_that_only_repeats_the_rest_is_dropped() -> None:
    assert postprocess("foo(a)", at("x = █foo(a)\n")) is None
