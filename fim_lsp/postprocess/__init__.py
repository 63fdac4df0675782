"""Post-processing: turn the model's raw middle text into what the editor should show.

One module per rule, each a pure function with golden tests in tests/unit/postprocess/:

- seam: whitespace where the suggestion meets the document (stray newline, doubled or stray
  space, a space that would split the word being typed)
- mode: single-line or multi-line, from the cursor's context (text after it, a comment, a string)
- suffix: stop where the suggestion starts repeating the lines after the cursor (exactly or nearly)
- scope: multi-line suggestions end with their block (brackets, indentation, a blank line mid-block)
- repetition: runaway repetition of a line or a block
- closing: a closing line the document already has
- rest: the rest of the cursor's line (auto-closed brackets covered once, repeated text cut)
- layout: the document's indentation unit and line ending
- blank: nothing worth showing

The cutting rules (mode, suffix, scope, repetition) decide each line from the lines before it, so
`stream_done` can stop a stream as soon as a cut is certain. `_syntax` (a bracket, string and comment
scanner) and `_view` (the cursor's surroundings, computed once per request) serve them all.
"""

from __future__ import annotations

from ..context import FimContext
from . import closing, layout, repetition, rest, scope, seam, suffix
from ._types import Suggestion
from ._view import View, is_blank, view_of
from .blank import is_empty
from .mode import single_line

__all__ = ["Suggestion", "postprocess", "prepare", "stream_done"]


def _cut(lines: list[str], view: View) -> int | None:
    """Where the suggestion must end (keep lines[:cut]), decided line by line, or None."""
    if single_line(view) and not _comment_ended(lines, view):
        return 1
    whole = [view.line_prefix + lines[0], *lines[1:]]
    found = (suffix.cut(lines, view), scope.cut(lines, view), repetition.cut(whole))
    cuts = [c for c in found if c is not None]
    if not cuts:
        return None
    end = min(cuts)
    # Blank lines before the cut belong to what was cut.
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _comment_ended(lines: list[str], view: View) -> bool:
    """The model ends the line's trailing comment at the cursor and goes on with the next lines.

    As in a table whose rows end with a comment. A space before the cursor means the user is
    still writing the comment: then only its line is completed.
    """
    return (
        view.at_cursor.in_line_comment
        and not view.mid_line
        and is_blank(lines[0])
        and not view.line_prefix[-1:].isspace()
    )


def prepare(ctx: FimContext) -> None:
    """Analyse the context ahead of time (a few ms), e.g. while the model thinks."""
    view_of(ctx)


def stream_done(text: str, ctx: FimContext) -> bool:
    """True once the streamed text already holds all that `postprocess` would keep."""
    view = view_of(ctx)
    text = seam.trim_start(text.replace("\r\n", "\n"), view)
    end = text.rfind("\n")
    if end < 0:
        return False
    # Only complete lines: a cut found in them cannot move when more text arrives...
    lines = text[:end].split("\n")
    end_line = _cut(lines, view)
    if end_line is None:
        return False
    # ...unless the lines before it may be the start of a loop, which would cut earlier.
    whole = [view.line_prefix + lines[0], *lines[1:]]
    last = whole[end_line - 1].rstrip()
    return not any(
        whole[end_line - 1 - size].rstrip() == last
        for size in range(1, repetition.MAX_BLOCK_LINES + 1)
        if end_line - 1 - size >= 0
    )


def postprocess(raw: str, ctx: FimContext) -> Suggestion | None:
    """Apply every rule in order; None when nothing is worth showing."""
    view = view_of(ctx)
    text = seam.trim_start(raw.replace("\r\n", "\n"), view)
    if is_empty(text):
        return None
    lines = text.split("\n")
    end = _cut(lines, view)
    if end is not None:
        text = "\n".join(lines[:end])
    text = seam.trim_end(text, view)
    text = suffix.drop_echoed_last_line(text, view)
    text = closing.drop_duplicate(text, view)
    text = rest.cut_repeated_rest(text, view)
    if is_empty(text):
        return None
    text, replace = rest.fit_closers(text, view)
    text = layout.indentation(text, view)
    return Suggestion(layout.line_endings(text, view), replace)
