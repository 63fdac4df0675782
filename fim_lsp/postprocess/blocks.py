"""Blocks that end with a word or a tag (`fi`, `end`, `</div>`): does the document lack that end?"""

from __future__ import annotations

import re
from typing import Literal

from ._view import View, indent_width, is_blank

_SHELL_ENDS = {"fi": ("if",), "esac": ("case",), "done": ("for", "while", "until", "select")}
_END_OPENERS = re.compile(
    r"(def|class|module|if|unless|while|until|case|begin|for|function|local function|repeat)\b"
    r"|.*\bdo(\s*\|[^|]*\|)?\s*$|.*\bthen\s*$"
)
_END_LANGUAGES = frozenset({"ruby", "lua", "elixir", "julia", "crystal"})
_SHELL = frozenset({"shellscript", "sh", "bash", "zsh"})
_TAG_LANGUAGES = frozenset(
    {"html", "xml", "vue", "svelte", "javascriptreact", "typescriptreact", "javascript", "markdown"}
)
_CLOSING_TAG = re.compile(r"</([\w.:-]*)>")
# How far up the document to look for the line that opened the block.
_LOOK_BACK = 200

State = Literal["duplicate", "missing"]


def _closer(stripped: str, language: str) -> str | None:
    """The word or tag a line ends a block with, or None."""
    word = re.match(r"[\w]+", stripped)
    if language in _SHELL and word and word.group() in _SHELL_ENDS:
        return word.group()
    if language in _END_LANGUAGES and word and word.group() == "end":
        return "end"
    if language in _TAG_LANGUAGES:
        tag = _CLOSING_TAG.match(stripped)
        if tag:
            return tag.group()
        if stripped in ("/>", ">"):
            # The end of a tag whose attributes stand one per line.
            return stripped
    return None


def _opens(stripped: str, closer: str, language: str) -> bool:
    """Whether a line opens the kind of block `closer` ends."""
    if closer in _SHELL_ENDS:
        first = re.match(r"[\w]+", stripped)
        return bool(first) and first.group() in _SHELL_ENDS[closer]  # type: ignore[union-attr]
    if closer == "end":
        return bool(_END_OPENERS.match(stripped))
    if closer in ("/>", ">"):
        return stripped.startswith("<") and ">" not in stripped
    name = closer[2:-1]
    return (
        stripped.startswith(f"<{name}") and closer not in stripped and not stripped.endswith("/>")
    )


def ends_block(line: str, view: View) -> bool:
    """Whether a line is a block end by word or tag in the document's language."""
    return _closer(line.strip(), view.language) is not None


def state(before: list[str], line: str, view: View) -> State | None:
    """Whether the block end on `line` is one the document already has next, or one it lacks.

    `before`: the suggestion's lines before it, the first one joined to the cursor's line.
    None when the line ends no such block, or the block is the suggestion's own.
    """
    stripped = line.strip()
    closer = _closer(stripped, view.language)
    if closer is None:
        return None
    width = indent_width(line)
    prefix_lines = view.lines_before(_LOOK_BACK - 1)
    # The cursor's line is the suggestion's own when the cursor stands at its indentation.
    own = len(before) if is_blank(view.line_prefix) else len(before) - 1
    comments = view.syntax.line_comments
    for k, above in enumerate(reversed([*prefix_lines, *before])):
        body = above.strip()
        if not body or indent_width(above) > width or (comments and body.startswith(comments)):
            continue
        if indent_width(above) < width or not _opens(body, closer, view.language):
            return None
        if k < own:
            # The suggestion opened this block itself.
            return None
        break
    else:
        return None
    for below in view.after:
        if is_blank(below) or indent_width(below) > width:
            continue
        if indent_width(below) == width and _closer(below.strip(), view.language) == closer:
            return "duplicate"
        break
    return "missing"
