"""A last line the token limit cut short (`buffer_.str(std::str`): it would leave a bracket or string open."""

from __future__ import annotations

from ._view import View, is_blank
from .rest import closers_only

# A line ending like this goes on by design on the next one.
_CONTINUES = ("(", "[", "{", ",", "\\", "=>", "->", "&&", "||", "+", "=")


def drop_last(lines: list[str], view: View) -> list[str]:
    """The lines without a final one that opens a bracket or string it does not close."""
    if len(lines) < 2 or is_blank(lines[-1]):
        return lines
    scanner = view.scan_from_line_start("\n".join(lines[:-1]))
    if not scanner.in_code:
        return lines
    scanner.newline()
    before = scanner.depth
    # The closers after the cursor end the last line (`summarise(n = n()` then `)`).
    rest = view.line_rest.strip() if closers_only(view.line_rest) else ""
    scanner.feed(lines[-1] + rest)
    if scanner.string in ('"', "'", "`"):
        # Cut inside a string: whatever the line ends with is the string's text.
        return lines[:-1]
    if lines[-1].rstrip().endswith(_CONTINUES):
        return lines
    return lines[:-1] if scanner.depth > before else lines
