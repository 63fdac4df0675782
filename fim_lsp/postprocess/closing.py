"""Drop a closing line the document already has right after the cursor: editors auto-insert `}`."""

from __future__ import annotations

import re

from ._view import View, indent_width, is_blank

_TRAILING_BLANK_LINES = re.compile(r"\n[ \t\n]*\Z")
_CLOSERS = frozenset(")]}")


def drop_duplicate(text: str, view: View) -> str:
    """Remove a last line that closes a block whose closer is the document's next line."""
    found = view.next_nonblank()
    if found is None or view.mid_line:
        return text
    lines = text.split("\n")
    last = lines[-1].strip()
    theirs = found[1]
    if len(lines) < 2 or is_blank(last) or last[0] not in _CLOSERS or theirs.strip()[:1] != last[0]:
        return text
    scanner = view.scan_from_line_start("\n".join(lines[:-1]))
    scanner.newline()
    low = scanner.feed(lines[-1])
    base = indent_width(view.line_prefix)
    if view.unclosed is not None:
        # The document's brackets say whether it lacks this closer.
        duplicate = low < view.at_cursor.depth - len(view.unclosed)
    elif low < view.at_cursor.depth and lines[-1].rstrip() == theirs.rstrip():
        # The very line the document has next, closing what was open before the suggestion.
        duplicate = True
    elif view.at_cursor.depth > 0 and low < view.at_cursor.depth:
        # It closes the block opened on the cursor's line: the document's closer is that
        # block's when it sits at that line's indentation.
        duplicate = indent_width(theirs) == base
    elif low < 0:
        # It closes a block opened before the cursor's line: the document's closer is that
        # block's when it sits left of the cursor's line.
        duplicate = indent_width(theirs) < base
    else:
        # A nested block's closer is the answer's own.
        duplicate = False
    if not duplicate:
        return text
    kept = _TRAILING_BLANK_LINES.sub("", "\n".join(lines[:-1]))
    return kept
