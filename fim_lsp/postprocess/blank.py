"""Drop empty and whitespace-only suggestions: ghost text of nothing only costs a keystroke."""

from __future__ import annotations

from ._view import View


def is_empty(text: str) -> bool:
    """True when the suggestion has nothing but whitespace."""
    return not text.strip()


def adds_nothing(text: str, view: View) -> bool:
    """True for a lone `;` or `,` after a line that already ends with it, or a comment mark
    with no comment (`//`, `#`)."""
    mark = text.strip()
    if mark in view.syntax.line_comments:
        return True
    return mark in (";", ",") and view.line_prefix.rstrip().endswith(mark) and not view.mid_line
