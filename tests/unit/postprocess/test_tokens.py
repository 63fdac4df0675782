"""Golden cases: special tokens streamed as text end the answer."""

from pp_cursor import at

from fim_lsp.postprocess import postprocess, stream_done
from fim_lsp.postprocess.tokens import cut


def test_text_after_a_special_token_is_dropped() -> None:
    assert cut("x = 1<|endoftext|>// next file") == "x = 1"
    assert cut("a</s>b") == "a"
    assert cut("a<|fim_middle|>b") == "a"
    assert cut("a < b && c > d") == "a < b && c > d"


def test_only_a_token_is_nothing_and_stops_the_stream() -> None:
    ctx = at("def f():\n    █\n")
    assert postprocess("<|endoftext|>", ctx) is None
    assert stream_done("return 1<|endoftext|>", ctx)


def test_a_strikethrough_tag_is_markup_not_a_token() -> None:
    assert cut("<s>old</s> new", "typescriptreact") == "<s>old</s> new"
    assert cut("old</s> new", "python") == "old"
