"""Stop where the suggestion starts repeating the lines after the cursor: models echo the suffix they saw."""

from __future__ import annotations

import re

from . import blocks
from ._syntax import CLOSING
from ._view import TRAILING_BLANK_LINES, View, indent_width, is_blank

# Lines shorter than this (`}`, `pass`, `break;`) repeat by coincidence: they need a second line.
_STRONG_CHARS = 10
_MAX_COMPARE = 200
_NUMBER = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_TERMINAL = re.compile(r"\s*(return|throw|raise)\b")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def same_line(a: str, b: str) -> bool:
    """Equal, or nearly (a few characters differ) for long lines at the same indentation."""
    a, b = a.rstrip(), b.rstrip()
    if a == b:
        return True
    if indent_width(a) != indent_width(b):
        return False
    if _terminal(a) and _terminal(a) == _terminal(b):
        # Two lines that end the block the same way (`return this.value;`, `return value;`).
        return True
    if _SPACES.sub("", a) == _SPACES.sub("", b):
        # Re-typed with other spacing (`a/b` for `a / b`).
        return True
    a, b = a.strip(), b.strip()
    if min(len(a), len(b)) < _STRONG_CHARS or max(len(a), len(b)) > _MAX_COMPARE:
        return False
    limit = max(1, min(len(a), len(b)) // 10)
    # Rows of a table (codes, indices, versions) differ in their numbers only: not an echo.
    return edit_distance(a, b, limit) <= limit and _NUMBER.findall(a) == _NUMBER.findall(b)


def _terminal(line: str) -> str | None:
    """The keyword a line leaves its block with (`return`, `throw`, `raise`), if any."""
    found = _TERMINAL.match(line)
    return found.group(1) if found else None


def _strong(line: str) -> bool:
    body = line.strip()
    return len(body) >= _STRONG_CHARS and any(ch.isalnum() for ch in body)


def cut(lines: list[str], view: View) -> int | None:
    """Index of the first line that repeats the document after the cursor, or None.

    Decided from lines[0..i+1] alone, so a streamed prefix that holds the cut keeps it.
    """
    found = view.next_nonblank()
    if found is None:
        return None
    index, first = found
    if _completes_to(lines[0], first, view):
        return 0
    following = view.next_nonblank(index + 1)
    second = following[1] if following else None
    # The first line counts only when it is a whole line (the cursor was at its indentation).
    start = 0 if is_blank(view.line_prefix) else 1
    for i in range(start, len(lines)):
        line = view.line_prefix + lines[0] if i == 0 else lines[i]
        if is_blank(line) or not same_line(line, first):
            continue
        if _strong(first) or _terminal(first):
            return i
        if i and line.lstrip()[:1] in CLOSING and _closes_its_own(lines[:i], view):
            continue  # the closer of a block the suggestion opened, not the document's
        later = next((j for j in range(i + 1, len(lines)) if not is_blank(lines[j])), None)
        if later is not None and (second is None or same_line(lines[later], second)):
            return i
    return None


def _completes_to(text: str, following: str, view: View) -> bool:
    """The cursor's line, finished with `text`, is the document's next line word for word
    (`val x = █` + `42` above `val x = 42`): the model re-typed the line below."""
    if is_blank(view.line_prefix) or view.mid_line or not _strong(following):
        return False
    return (view.line_prefix + text).strip() == following.strip()


def _closes_its_own(before: list[str], view: View) -> bool:
    """Whether brackets the suggestion opened in `before` are still open after it."""
    return view.scan_from_line_start("\n".join(before)).depth > max(0, view.at_cursor.depth)


def _glued(text: str, following: str, view: View) -> bool:
    body = following.strip()
    return (
        text.strip() == body
        and any(ch.isalnum() for ch in body)
        and body[0] not in CLOSING
        and not blocks.ends_block(following, view)
    )


def drop_echoed_last_line(text: str, view: View) -> str:
    """Drop a final line that equals the next line of the document (exactly, with its indentation)."""
    found = view.next_nonblank()
    if found is None or view.mid_line:
        return text
    lines = text.split("\n")
    if len(lines) == 1:
        if not is_blank(view.line_prefix):
            # The next line glued to the end of this one (`f()` then `g()` for `f()g()`).
            return "" if _glued(text, found[1], view) else text
        # A lone line on an empty line: an echo when it is the next line, indentation too.
        lines = ["", view.line_prefix + text]
    if lines[-1].rstrip() != found[1].rstrip() or is_blank(lines[-1]):
        return text
    if lines[-1].lstrip()[0] in CLOSING or blocks.ends_block(lines[-1], view):
        # Block ends are judged by their brackets or openers (closing.py), not by their text.
        return text
    return TRAILING_BLANK_LINES.sub("", "\n".join(lines[:-1]))
