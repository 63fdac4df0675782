"""Other files' code in a FIM request, in each dialect's way: comment-headed blocks before the
prompt, repository tokens, or llama.cpp's `input_extra`.

The blocks come first and in a stable order, then the cursor's file: from one keystroke to the
next the request's beginning stays the same, so model servers reuse their prompt cache.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..postprocess._syntax import syntax_of
from ..postprocess.tokens import FILE_HEADER

if TYPE_CHECKING:
    from ..context import FimContext
    from ..related import Snippet
    from .templates import Template

# Block-comment syntax of languages without line comments (plain CSS has no `//`).
_BLOCK_COMMENTS = {
    "css": ("/*", " */"),
    "html": ("<!--", " -->"),
    "xml": ("<!--", " -->"),
    "markdown": ("<!--", " -->"),
    "vue": ("<!--", " -->"),
    "svelte": ("<!--", " -->"),
}


def display_path(uri: str, roots: Sequence[str] = ()) -> str:
    """A document's path as the model should see it: relative to its workspace folder."""
    parts = urlsplit(uri)
    path = unquote(parts.path) if parts.scheme == "file" else uri
    for root in roots:
        base = unquote(urlsplit(root).path) if root.startswith("file:") else root
        base = base.rstrip("/")
        if base and path.startswith(base + "/"):
            return path[len(base) + 1 :]
    return os.path.basename(path) or path


def comment_line(text: str, language_id: str) -> str:
    """`text` as a one-line comment of the language (`# …`, `// …`, `/* … */`, `<!-- … -->`)."""
    block = _BLOCK_COMMENTS.get(language_id.lower())
    if block is not None:
        return f"{block[0]} {text}{block[1]}\n"
    comments = syntax_of(language_id).line_comments
    return f"{comments[0] if comments else '//'} {text}\n"


def header_cost(path: str, language_id: str) -> int:
    """Characters the header line of a block from `path` takes."""
    return len(comment_line(f"{FILE_HEADER}{path}", language_id))


def _block(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _path(snippet: Snippet) -> str:
    return snippet.path or display_path(snippet.uri)


def with_other_files(ctx: FimContext) -> str:
    """The prompt with the other files' blocks before it, each headed by its path.

    The cursor's file gets a header too, so the model sees where the other files end.
    """
    if not ctx.extra:
        return ctx.prompt
    lang = ctx.language_id
    blocks = "".join(
        comment_line(f"{FILE_HEADER}{_path(s)}", lang) + _block(s.text) for s in ctx.extra
    )
    return blocks + comment_line(f"{FILE_HEADER}{ctx.path}", lang) + ctx.prompt


def templated(template: Template, ctx: FimContext) -> str:
    """A FIM template's prompt, with other files in its repository layout when it has one.

    Qwen2.5-Coder (`<|repo_name|>`, `<|file_sep|>`) and StarCoder2 (`<repo_name>`, `<file_sep>`)
    were trained on repositories laid out that way; other templates get comment-headed blocks.
    """
    if not ctx.extra:
        return template.render(ctx.prompt, ctx.suffix)
    if template.repo is None:
        return template.render(with_other_files(ctx), ctx.suffix)
    repo_token, name_end, file_sep = template.repo
    parts = [repo_token, ctx.repo, name_end]
    parts += [f"{file_sep}{_path(s)}\n{_block(s.text)}" for s in ctx.extra]
    parts.append(f"{file_sep}{ctx.path}\n")
    return "".join(parts) + template.render(ctx.prompt, ctx.suffix)


def input_extra(ctx: FimContext) -> list[dict[str, str]]:
    """llama.cpp's `/infill` `input_extra`: one {filename, text} per snippet."""
    return [{"filename": _path(s), "text": _block(s.text)} for s in ctx.extra]
