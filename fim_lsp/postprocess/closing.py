"""Drop closing lines the document already has right after the cursor: editors auto-insert `}`."""

from __future__ import annotations

from . import blocks
from ._syntax import CLOSING
from ._view import TRAILING_BLANK_LINES, View, indent_width, is_blank


def drop_duplicate(text: str, view: View) -> str:
    """Remove final lines that close blocks whose closers the document has (`}`, `end`, `</tag>`)."""
    while True:
        kept = _drop_last(text, view)
        if kept == text:
            return text
        text = kept


def _drop_last(text: str, view: View) -> str:
    found = view.next_nonblank()
    if found is None or view.mid_line:
        return text
    lines = text.split("\n")
    last = lines[-1].strip()
    theirs = found[1]
    if is_blank(last) or (len(lines) < 2 and not is_blank(view.line_prefix)):
        # A closer after text on the cursor's line is that line's business (rest.py).
        return text
    if last[0] not in CLOSING:
        return _drop_block_end(lines, theirs, view)
    if len(lines) > 1:
        scanner = view.scan_from_line_start("\n".join(lines[:-1]))
        scanner.newline()
    else:
        scanner = view.scan_from_line_start("")
    low = scanner.feed(lines[-1])
    base = indent_width(view.line_prefix)
    lacks = view.lacks_closer(low)
    if len(lines) < 2 and lacks is None:
        # A lone closer on an empty line: only the document's balance can tell it is doubled.
        return text
    if lacks is not None:
        # The document's brackets say whether it lacks this closer.
        duplicate = not lacks
    elif theirs.strip()[:1] != last[0]:
        duplicate = False
    elif low < view.at_cursor.depth and lines[-1].rstrip() == theirs.rstrip():
        # The very line the document has next, closing what was open before the suggestion.
        duplicate = True
    elif view.at_cursor.depth > 0 and low < view.at_cursor.depth:
        # It closes the block opened on the cursor's line: the document's closer is that
        # block's when it sits at that line's indentation.
        duplicate = indent_width(theirs) == base
    elif low < 0:
        # It closes a block opened before the cursor's line: the document's closer is that
        # block's when it sits left of the cursor's line, and not right of this one (a
        # deeper closer ends an inner block the document leaves open).
        duplicate = indent_width(theirs) < base and (
            not view.windows_cut or indent_width(lines[-1]) <= indent_width(theirs)
        )
    else:
        # A nested block's closer is the answer's own.
        duplicate = False
    return TRAILING_BLANK_LINES.sub("", "\n".join(lines[:-1])) if duplicate else text


def _drop_block_end(lines: list[str], theirs: str, view: View) -> str:
    """A lone `end`, `fi` or `</tag>` that the document has next, unless it lacks one more.

    Longer suggestions are cut before such a line by scope.py.
    """
    line = view.line_prefix + lines[0]
    if len(lines) > 1 or line.strip() != theirs.strip():
        return "\n".join(lines)
    if blocks.state([], line, view) == "missing" or not blocks.ends_block(line, view):
        return "\n".join(lines)
    return ""
