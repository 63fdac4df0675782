"""Other files' code rendered for each dialect."""

from __future__ import annotations

from fim_lsp.backends.other_files import (
    comment_line,
    display_path,
    input_extra,
    prepended,
    repository_prefix,
)
from fim_lsp.related import Snippet

SNIPPET = Snippet("file:///work/app/pkg/util.py", "python", 0, "def helper(x):\n    return x")


def test_paths_are_relative_to_the_workspace_folder() -> None:
    assert display_path(SNIPPET.uri, ["file:///work/app"]) == "pkg/util.py"
    assert display_path(SNIPPET.uri, ["/work/app/"]) == "pkg/util.py"
    assert display_path(SNIPPET.uri) == "util.py"
    assert display_path("file:///work/app/my%20dir/a.py", ["file:///work/app"]) == "my dir/a.py"


def test_each_language_heads_a_block_with_its_own_comment_syntax() -> None:
    assert comment_line("Path: a", "python") == "# Path: a\n"
    assert comment_line("Path: a", "typescript") == "// Path: a\n"
    assert comment_line("Path: a", "lua") == "-- Path: a\n"
    assert comment_line("Path: a", "css") == "/* Path: a */\n"
    assert comment_line("Path: a", "html") == "<!-- Path: a -->\n"


def test_blocks_before_the_prompt_end_with_a_newline() -> None:
    text = prepended([SNIPPET], "python", ["file:///work/app"])
    assert text == "# Path: pkg/util.py\ndef helper(x):\n    return x\n"


def test_repository_layout_and_input_extra() -> None:
    qwen = repository_prefix(
        [SNIPPET], "main.py", repo_name="<|repo_name|>app\n", file_sep="<|file_sep|>"
    )
    assert qwen == (
        "<|repo_name|>app\n<|file_sep|>util.py\ndef helper(x):\n    return x\n<|file_sep|>main.py\n"
    )
    assert input_extra([SNIPPET], ["file:///work/app"]) == [
        {"filename": "pkg/util.py", "text": "def helper(x):\n    return x\n"}
    ]
