"""Other files' code rendered for each dialect: blocks before the prompt, repository tokens, input_extra."""

from __future__ import annotations

import json

from fim_lsp.backends import backend_for
from fim_lsp.backends.other_files import (
    comment_line,
    display_path,
    input_extra,
    templated,
    with_other_files,
)
from fim_lsp.backends.templates import template_for
from fim_lsp.context import FimContext
from fim_lsp.related import Snippet
from fim_lsp.settings import Settings

SNIPPET = Snippet(
    "file:///work/app/pkg/util.py", "python", 0, "def helper(x):\n    return x", "pkg/util.py"
)
CTX = FimContext("y = helper(", ")\n", "python", "main.py", extra=(SNIPPET,), repo="app")


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


def test_blocks_come_before_the_prompt_and_the_cursor_file_is_named_last() -> None:
    assert with_other_files(CTX) == (
        "# Path: pkg/util.py\ndef helper(x):\n    return x\n# Path: main.py\ny = helper("
    )
    alone = FimContext("y = helper(", ")\n", "python", "main.py")
    assert with_other_files(alone) == "y = helper("


def test_repository_templates_lay_the_files_out_with_their_tokens() -> None:
    qwen = template_for("qwen")
    assert qwen is not None
    assert templated(qwen, CTX) == (
        "<|repo_name|>app\n<|file_sep|>pkg/util.py\ndef helper(x):\n    return x\n"
        "<|file_sep|>main.py\n<|fim_prefix|>y = helper(<|fim_suffix|>)\n<|fim_middle|>"
    )
    starcoder = template_for("starcoder")
    assert starcoder is not None
    assert templated(starcoder, CTX).startswith("<repo_name>app<file_sep>pkg/util.py\n")
    deepseek = template_for("deepseek")
    assert deepseek is not None
    assert templated(deepseek, CTX).startswith("<\uff5cfim\u2581begin\uff5c># Path: pkg/util.py\n")


def test_llamacpp_gets_input_extra_and_codestral_the_blocks_in_its_prompt() -> None:
    assert input_extra(CTX) == [
        {"filename": "pkg/util.py", "text": "def helper(x):\n    return x\n"}
    ]
    llama = json.loads(backend_for("llamacpp").render(CTX, Settings(backend="llamacpp")).content)
    assert llama["input_extra"] == input_extra(CTX) and llama["input_prefix"] == "y = helper("
    codestral = json.loads(backend_for("codestral").render(CTX, Settings()).content)
    assert codestral["prompt"] == with_other_files(CTX) and codestral["suffix"] == ")\n"
