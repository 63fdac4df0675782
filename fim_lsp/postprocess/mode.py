"""Single-line or multi-line: the `multiline` setting, then the cursor's context (text after it, a comment, a string)."""

from __future__ import annotations

from ._view import View, is_blank
from .rest import closers_only


def single_line(view: View) -> bool:
    """True when only the rest of the cursor's line may be completed."""
    if view.multiline == "never":
        return True
    if view.mid_line and not closers_only(view.line_rest):
        # Text after the cursor stays on this line: the suggestion must fit before it.
        return True
    state = view.at_cursor
    if state.string in ('"', "'"):
        # A one-line string ends with the line.
        return True
    # A line comment ends with the line; "always" lets the model go on with code below it.
    return state.in_line_comment and view.multiline != "always"


def cut(lines: list[str], view: View) -> int | None:
    """Where a single-line suggestion ends (lines kept), or None when it may span lines."""
    if not single_line(view):
        return None
    if view.multiline != "never" and _comment_ended(lines, view):
        return None
    return _lines_kept(lines, view)


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


def _lines_kept(lines: list[str], view: View) -> int:
    """How many lines a single-line suggestion keeps: one, or the newline and one line after it.

    With "never", a cursor at the end of a line whose answer starts on the next line
    (`def f():` then a body) still gets that one line.
    """
    if (
        view.multiline == "never"
        and len(lines) > 1
        and is_blank(lines[0])
        and not view.mid_line
        and not is_blank(view.line_prefix)
    ):
        return 2
    return 1
