"""Single-line or multi-line: the `multiline` setting, then the cursor's context."""

from __future__ import annotations

from . import blocks
from ._syntax import CLOSING
from ._view import View, is_blank
from .rest import closers_only

# A rest of the line ending like this opens a block (`) {`, ` and ready:`).
_OPENERS = ("{", "(", "[", ":")


def single_line(view: View) -> bool:
    """True when only the rest of the cursor's line may be completed."""
    if view.multiline == "never":
        return True
    if view.mid_line and not closers_only(view.line_rest):
        # Text after the cursor stays on this line: the suggestion must fit before it.
        return True
    state = view.at_cursor
    if state.string in ('"', "'"):
        # A one-line string ends with the line, unless the quote closing it was auto-inserted
        # (`route("/█")`): the model may end the string there and go on below.
        return not (closers_only(view.line_rest) and state.string in view.line_rest)
    # A line comment ends with the line; "always" lets the model go on with code below it.
    return state.in_line_comment and view.multiline != "always"


def cut(lines: list[str], view: View, final: bool = True) -> int | None:
    """Where a single-line suggestion ends (lines kept), or None when it may span lines.

    `final`: the text is all the model sent (a stream may still send more).
    """
    if not single_line(view):
        return None
    if retyped_opener(lines[0], view) and (
        not final or any(not is_blank(line) for line in lines[1:])
    ):
        # The rest of the line is the model's to write again, and its block's body follows.
        return None
    retyped = _retyped_rest(lines, view)
    if retyped is not None:
        # A body on new lines, then the rest of the line re-typed: rest.py cuts that copy.
        return retyped + 1
    if final and _opens_body(lines, view) and len(lines) > 2 and is_blank(lines[-1]):
        # A body on new lines that stops where the rest of the line takes over.
        return len(lines)
    if view.multiline != "never" and _comment_ended(lines, view):
        return None
    return _lines_kept(lines, view)


def _opens_body(lines: list[str], view: View) -> bool:
    """The model starts new lines before a rest that closes a block (`{█}, [count]);`, `</div>`)."""
    rest = view.line_rest.lstrip()
    closes = rest[:1] in CLOSING or (rest.startswith("</") and blocks.ends_block(rest, view))
    return view.multiline != "never" and view.mid_line and closes and is_blank(lines[0])


def _retyped_rest(lines: list[str], view: View) -> int | None:
    """The line that re-types the rest of the cursor's line after a body the model wrote."""
    if not _opens_body(lines, view):
        return None
    rest = view.line_rest.strip()
    return next((k for k in range(1, len(lines)) if lines[k].strip() == rest), None)


def retyped_opener(first: str, view: View) -> bool:
    """The first line ends by re-typing the whole rest of the line, which opens a block
    (`if (█) {` + `check) {`): the lines after it are that block's body."""
    rest = view.line_rest.strip()
    return (
        view.multiline != "never"
        and rest[-1:] in _OPENERS
        and not closers_only(view.line_rest)
        and not view.at_cursor.in_line_comment
        and view.at_cursor.string is None
        and first.rstrip().endswith(rest)
    )


def waits(lines: list[str], view: View) -> bool:
    """True while a stream may still re-type the rest of the line below a body (see `cut`), or
    send the body of a block whose opener the first line re-typed."""
    if retyped_opener(lines[0], view) and all(is_blank(line) for line in lines[1:]):
        return True
    return _opens_body(lines, view) and _retyped_rest(lines, view) is None


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


def _lines_kept(lines: list[str], view: View) -> int | None:
    """How many lines a single-line suggestion keeps: one, or the newline and one line after it.

    With "never", a cursor at the end of a line whose answer starts on the next line
    (`def f():` then a body) still gets that one line, after the blank lines the model meant
    before it (kept by `seam.trim_start` on an empty line between definitions).
    """
    if view.multiline == "never" and is_blank(lines[0]) and not view.mid_line:
        content = next((i for i, line in enumerate(lines) if not is_blank(line)), None)
        # Undecided until a line with something on it has come.
        return None if content is None else content + 1
    return 1
