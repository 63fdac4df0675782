"""Other files' code in a FIM request, in each dialect's way: comment-headed blocks, repository
tokens, or llama.cpp's `input_extra`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from ..postprocess._syntax import syntax_of
from ..related import Snippet

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


def header(snippet: Snippet, language_id: str, roots: Sequence[str] = ()) -> str:
    """The line that names a snippet's file above it, in the cursor file's comment syntax."""
    return comment_line(f"Path: {display_path(snippet.uri, roots)}", language_id)


def _block(snippet: Snippet) -> str:
    return snippet.text if snippet.text.endswith("\n") else snippet.text + "\n"


def prepended(snippets: Sequence[Snippet], language_id: str, roots: Sequence[str] = ()) -> str:
    """Blocks to put before the prompt: each snippet headed by its path, then the cursor's file.

    The cursor file's own path heads the local prefix, so the model sees where one file ends.
    """
    return "".join(header(s, language_id, roots) + _block(s) for s in snippets)


def current_file_header(path: str, language_id: str) -> str:
    """The line naming the cursor's file after the other files' blocks."""
    return comment_line(f"Path: {path}", language_id)


def repository_prefix(
    snippets: Sequence[Snippet],
    current_path: str,
    *,
    repo_name: str,
    file_sep: str,
    name_sep: str = "\n",
    roots: Sequence[str] = (),
) -> str:
    """Repository-level FIM layout (Qwen2.5-Coder `<|file_sep|>`, StarCoder2 `<file_sep>`).

    `repo_name` is the template's repository token plus the name; each file then follows its
    separator and path; the cursor's file comes last, its FIM tokens after this prefix.
    """
    parts = [repo_name]
    for s in snippets:
        parts.append(f"{file_sep}{display_path(s.uri, roots)}{name_sep}{_block(s)}")
    parts.append(f"{file_sep}{current_path}{name_sep}")
    return "".join(parts)


def input_extra(snippets: Sequence[Snippet], roots: Sequence[str] = ()) -> list[dict[str, str]]:
    """llama.cpp's `/infill` `input_extra`: one {filename, text} per snippet."""
    return [{"filename": display_path(s.uri, roots), "text": _block(s)} for s in snippets]
