"""Post-processing: turn the model's raw middle text into what the editor should show.

One module per rule, each a pure function with golden tests in tests/unit/postprocess/:

- fences: markdown code fences (and the chat prose around them) removed
- seam: whitespace where the suggestion meets the document (stray newline, doubled or stray
  space, a space that would split the word being typed)
- mode: single-line or multi-line, from the `multiline` setting and the cursor's context (text after it, a comment, a string)
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
from . import closing, fences, layout, mode, repetition, rest, scope, seam, suffix
from ._types import Suggestion
from ._view import View, view_of
from .blank import is_empty

__all__ = ["Suggestion", "postprocess", "prepare", "stream_done"]


def _cut(lines: list[str], view: View) -> int | None:
    """Where the suggestion must end (keep lines[:cut]), decided line by line, or None."""
    one = mode.cut(lines, view)
    if one is not None:
        return one
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


def prepare(ctx: FimContext) -> None:
    """Analyse the context ahead of time (a few ms), e.g. while the model thinks."""
    view_of(ctx)


def stream_done(text: str, ctx: FimContext) -> bool:
    """True once the streamed text already holds all that `postprocess` would keep."""
    view = view_of(ctx)
    text = text.replace("\r\n", "\n")
    if fences.closed(text, view):
        return True
    if fences.pending(text, view):
        return False
    text = seam.trim_start(fences.strip(text, view), view)
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
    text = seam.trim_start(fences.strip(raw.replace("\r\n", "\n"), view), view)
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
