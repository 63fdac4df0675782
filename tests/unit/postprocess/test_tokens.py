"""Golden cases: special tokens streamed as text end the answer."""

import pytest
from pp_cursor import at

from fim_lsp.backends.other_files import comment_line
from fim_lsp.postprocess import postprocess, stream_done
from fim_lsp.postprocess.tokens import FILE_HEADER, cut


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


@pytest.mark.parametrize(
    ("language", "path"),
    [
        ("typescript", "src/util.ts"),
        ("python", "pkg/util.py"),
        ("lua", "util.lua"),
        ("css", "theme.css"),
        ("html", "index.html"),
    ],
)
def test_the_prompts_file_header_ends_the_answer(language: str, path: str) -> None:
    # The header other_files writes before each file: after it the model writes another file.
    header = comment_line(f"{FILE_HEADER}{path}", language)
    assert cut(f"x\n{header}y\n", language) == "x\n"
    assert stream_done(f"x\n{header}", at("█\n", language))


def test_a_comment_about_a_path_is_not_a_header() -> None:
    assert cut("# Path: where the files go\nx = 1", "python") == "# Path: where the files go\nx = 1"
    assert cut("x = 1  # Path: a\n", "python") == "x = 1  # Path: a\n"


def test_a_stream_waits_for_the_header_lines_end() -> None:
    # `# Path: where` may still grow into a comment about a path.
    assert not stream_done("x = 1\n# Path: where", at("█\n"))
