"""Post-processing: turn the model's raw middle text into what the editor should show.

One module per rule, each a pure function with golden tests in tests/unit/postprocess/:

- tokens: special tokens streamed as text (`<|endoftext|>`) end the answer
- fences: markdown code fences (and the chat prose around them) removed
- seam: whitespace where the suggestion meets the document (stray newline, doubled or stray
  space, a space that would split the word being typed)
- mode: single-line or multi-line, from the `multiline` setting and the cursor's context (text
  after it, a comment, a string)
- suffix: stop where the suggestion starts repeating the lines after the cursor (exactly or nearly)
- scope: multi-line suggestions end with their block (brackets, indentation, a blank line mid-block)
- repetition: runaway repetition of a line or a block, exact or with names and numbers changing,
  or of a phrase within a line (`x = x = x =`)
- keys: a YAML key the mapping already has
- closing: closing lines the document already has (decided by its bracket balance)
- blocks: `fi`, `esac`, `end`, `</tag>`: whether the document lacks the end a suggestion writes
- unfinished: a last line the token limit cut short
- rest: the rest of the cursor's line (auto-closed brackets covered once, repeated text cut)
- layout: the document's indentation unit and line ending
- blank: nothing worth showing

The cutting rules (mode, suffix, scope, repetition, keys) decide each line from the lines before it, so
`stream_done` can stop a stream as soon as a cut is certain. `_syntax` (a bracket, string and comment
scanner) and `_view` (the cursor's surroundings, computed once per request) serve them all.
"""

from __future__ import annotations

from functools import lru_cache

from ..context import FimContext
from . import (
    closing,
    fences,
    keys,
    layout,
    mode,
    repetition,
    rest,
    scope,
    seam,
    suffix,
    tokens,
    unfinished,
)
from ._types import Suggestion
from ._view import View, view_of
from .blank import adds_nothing, is_empty

__all__ = ["Suggestion", "answer_ended", "postprocess", "prepare", "stream_done"]


def _cut(lines: list[str], view: View, final: bool) -> int | None:
    """Where the suggestion must end (keep lines[:cut]), decided line by line, or None."""
    one = mode.cut(lines, view, final)
    if one is not None:
        return one
    whole = [view.line_prefix + lines[0], *lines[1:]]
    found = (
        suffix.cut(lines, view),
        scope.cut(lines, view, final),
        repetition.cut(whole),
        repetition.near_cut(whole, final),
        repetition.label_cut(whole),
        keys.cut(lines, view),
    )
    cuts = [c for c in found if c is not None]
    if not cuts:
        return None
    end = min(cuts)
    # Blank lines before the cut belong to what was cut.
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    return end


# How much of the cursor's line before it a loop on one phrase is looked for in: a loop the
# suggestion goes on with shows in its last copies, and a minified line may be the whole window.
_LOOP_PREFIX = 1000


def _loop_at(first: str, view: View) -> int | None:
    """Where in the suggestion's first line a loop on one phrase starts repeating, or None."""
    before = view.line_prefix[-_LOOP_PREFIX:]
    at = repetition.in_line(before + first)
    return None if at is None else max(0, at - len(before))


def prepare(ctx: FimContext) -> None:
    """Analyse the context ahead of time (a few ms), e.g. while the model thinks."""
    view_of(ctx)


def answer_ended(text: str, ctx: FimContext) -> bool:
    """True once the model marked its answer's end in the text (a special token, a fence)."""
    return _ended(text.replace("\r\n", "\n"), view_of(ctx))


def _ended(text: str, view: View) -> bool:
    return fences.closed(text, view) or tokens.seen(text, view.language)


def stream_done(text: str, ctx: FimContext) -> bool:
    """True once the streamed text already holds all that `postprocess` would keep."""
    text = text.replace("\r\n", "\n")
    if _ended(text, view_of(ctx)):
        return True
    # Only complete lines decide; deltas inside a line reuse the answer (a cached call).
    return _lines_done(text[: text.rfind("\n") + 1], ctx)


@lru_cache(maxsize=256)
def _lines_done(text: str, ctx: FimContext) -> bool:
    """`stream_done` for text that ends with a line end (or is empty)."""
    if not text.strip():
        # Only line ends so far: where the answer starts is not known yet.
        return False
    view = view_of(ctx)
    if fences.pending(text, view):
        return False
    text = seam.trim_start(fences.strip(text, view), view)
    end = text.rfind("\n")
    if end < 0:
        return False
    # Only complete lines: a cut found in them cannot move when more text arrives...
    lines = text[:end].split("\n")
    if _loop_at(lines[0], view) is not None:
        return True
    if mode.waits(lines, view):
        return False
    end_line = _cut(lines, view, final=False)
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
    text = tokens.cut(raw.replace("\r\n", "\n"), view.language)
    text = seam.trim_start(fences.strip(text, view), view)
    first_end = text.find("\n")
    loop = _loop_at(text if first_end < 0 else text[:first_end], view)
    if loop is not None:
        # A line looping on one phrase: nothing after its first copy is worth keeping.
        text = text[:loop].rstrip()
    if is_empty(text):
        return None
    lines = text.split("\n")
    end = _cut(lines, view, final=True)
    if end is not None and end < len(lines):
        lines = lines[:end]
    else:
        # The text runs to where the model stopped, maybe at its token limit mid-line.
        lines = unfinished.drop_open_tail(unfinished.drop_last(lines, view), view)
    text = "\n".join(lines)
    text = seam.trim_end(text, view)
    if adds_nothing(text, view):
        return None
    text = suffix.drop_echoed_last_line(text, view)
    text = closing.drop_duplicate(text, view)
    if rest.retyped_then_more(text, view):
        return Suggestion(layout.line_endings(text, view), len(view.line_rest))
    first, newline, _ = text.partition("\n")
    if newline and mode.single_line(view) and mode.retyped_opener(first, view):
        # The first line re-typed the rest of the line, an opener, and its block follows.
        text = layout.indentation(text, view)
        return Suggestion(layout.line_endings(text, view), len(view.line_rest))
    text = rest.cut_repeated_rest(text, view)
    if is_empty(text):
        return None
    text, replace = rest.fit_closers(text, view)
    if replace and text == view.line_rest[:replace]:
        # It only re-writes what the line already has.
        return None
    if not replace and rest.splits_word(text, view):
        return None
    text = layout.indentation(text, view)
    return Suggestion(layout.line_endings(text, view), replace)
