"""Single-line or multi-line, from the cursor's context: text after the cursor, a comment, a string."""

from __future__ import annotations

from ._view import View
from .rest import closers_only


def single_line(view: View) -> bool:
    """True when only the rest of the cursor's line may be completed."""
    if view.mid_line and not closers_only(view.line_rest):
        # Text after the cursor stays on this line: the suggestion must fit before it.
        return True
    state = view.at_cursor
    # A line comment or a one-line string ends with the line.
    return state.in_line_comment or state.string in ('"', "'")
