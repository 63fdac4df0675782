"""The end of an answer the token limit cut short: a last line left open or running away
(`000…`), a block the answer began and did not finish."""

from __future__ import annotations

import re

from ._syntax import Scanner
from ._view import View, indent_width, is_blank
from .rest import closers_only

# One letter or digit over and over to the line's end: the model looped until its limit.
_RUNAWAY = re.compile(r"([A-Za-z0-9])\1{23,}\s*\Z")
_RUNAWAY_TAIL = 64
# A Python compound statement's header: without the body after it, the code does not run.
_HEADER = re.compile(
    r"[ \t]*(?:async[ \t]+)?(?:def|class|if|elif|else|for|while|try|except|finally|with)\b"
    r".*:[ \t]*(?:#.*)?\Z"
)
# A line ending like this goes on by design on the next one.
_CONTINUES = ("(", "[", "{", ",", "\\", "=>", "->", "&&", "||", "+", "=")


def _cut_short(state: Scanner, line: str) -> bool:
    """Whether `line`, scanned from `state`, stops inside a string or leaves a bracket open."""
    scanner = state.copy()
    before = scanner.depth
    scanner.feed(line)
    if scanner.string in ('"', "'", "`"):
        # Cut inside a string: whatever the line ends with is the string's text.
        return True
    return not line.rstrip().endswith(_CONTINUES) and scanner.depth > before


def drop_last(lines: list[str], view: View) -> list[str]:
    """The lines without a final one that opens a bracket or string it does not close."""
    if len(lines) < 2 or is_blank(lines[-1]):
        return lines
    scanner = view.scan_from_line_start("\n".join(lines[:-1]))
    if not scanner.in_code:
        return lines
    scanner.newline()
    # The closers after the cursor may end the last line (`summarise(n = n()` then `)`).
    rest = view.line_rest.strip() if closers_only(view.line_rest) else ""
    last = lines[-1].rstrip()
    # The run ends the line: its tail shows it (searched whole, each start of a long run that a
    # closer ends would scan the run again).
    if _RUNAWAY.search(last, max(0, len(last) - _RUNAWAY_TAIL)):
        return lines[:-1]
    if _cut_short(scanner, lines[-1]) and (not rest or _cut_short(scanner, lines[-1] + rest)):
        return lines[:-1]
    return lines


def drop_open_tail(lines: list[str], view: View) -> list[str]:
    """The lines up to the last one that closed what the answer opened after its first line.

    A model stopped by its token limit inside a block it began (`for (...) {` and part of its
    body) leaves code that does not compile; the document's own lines may hold that body, and
    then nothing is dropped.
    """
    if len(lines) < 2 or not view.at_cursor.in_code:
        return lines
    if view.language == "python":
        lines = _drop_bodiless_header(lines, view)
        if len(lines) < 2:
            return lines
    scanner = view.scan_from_line_start(lines[0])
    base = scanner.depth
    closed = 0
    for k in range(1, len(lines)):
        scanner.newline()
        if k == len(lines) - 1 and closed == k - 1:
            probe = scanner.copy()
            held = len(probe.stack)
            probe.feed(lines[k])
            if "{" not in probe.stack[held:]:
                # Only the last line is open, and not with a block: `b = g(2, ` goes on.
                return lines
        scanner.feed(lines[k])
        if scanner.depth <= base and scanner.in_code:
            closed = k
    if scanner.depth <= base or closed == len(lines) - 1:
        return lines
    nxt = view.next_nonblank()
    if nxt is not None and indent_width(nxt[1]) > indent_width(lines[closed + 1]):
        return lines
    return lines[: closed + 1]


def _drop_bodiless_header(lines: list[str], view: View) -> list[str]:
    """The lines without a last `def …:` / `if …:` the model stopped after, body unwritten
    (unless the document's next line, deeper than it, is that body)."""
    last = len(lines) - 1
    while last > 0 and is_blank(lines[last]):
        last -= 1
    if not _HEADER.match(lines[last]) or all(is_blank(line) for line in lines[:last]):
        # A header alone is a one-line suggestion: its body is for the next one.
        return lines
    nxt = view.next_nonblank()
    if nxt is not None and indent_width(nxt[1]) > indent_width(lines[last]):
        return lines
    kept = last
    while kept > 0 and is_blank(lines[kept - 1]):
        kept -= 1
    return lines[:kept]
