"""The cursor's surroundings, normalised once per request so the rules stay small."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ._syntax import Scanner, Syntax, syntax_of
from ._types import PostContext

# How far the rules look around the cursor: enough for every rule, bounded so cost is not the file's.
_AFTER_LINES = 40
_INDENT_SAMPLE_LINES = 200
_SCAN_CHARS = 6000
# Two or more spaces between tokens (not before a comment): the file aligns with spaces.
_ALIGNED = re.compile(r"\S {2,}(?![#/\s*])\S")


def is_blank(line: str) -> bool:
    """True for an empty or whitespace-only string."""
    return not line.strip()


def indent_width(line: str, tab: int = 4) -> int:
    """Columns of leading whitespace (a tab counts `tab`)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += tab
        else:
            break
    return width


def leading_ws(line: str) -> str:
    """The leading whitespace of a line."""
    return line[: len(line) - len(line.lstrip(" \t"))]


@dataclass(frozen=True)
class View:
    """The text around the cursor with "\\n" line ends, and facts the rules share."""

    prefix: str
    line_prefix: str
    line_rest: str
    # Lines after the cursor's line, nearest first.
    after: tuple[str, ...]
    language: str
    syntax: Syntax
    eol: str
    indent_unit: str
    # The file puts runs of spaces between tokens (aligned columns): a doubled space may be meant.
    aligns: bool
    # Scanner states at the start of the cursor's line (brackets counted from there) and at the cursor.
    line_start: Scanner
    at_cursor: Scanner

    def next_nonblank(self, start: int = 0) -> tuple[int, str] | None:
        """Index and text of the first non-blank line after the cursor's line, from `start`."""
        for i in range(start, len(self.after)):
            if not is_blank(self.after[i]):
                return i, self.after[i]
        return None

    @property
    def mid_line(self) -> bool:
        """True when the cursor's line has non-blank text after the cursor."""
        return not is_blank(self.line_rest)


def _detect_eol(ctx: PostContext) -> str:
    """The document's line end, judged from the nearest line ends around the cursor."""
    before = ctx.prefix.rfind("\n")
    if before > 0:
        return "\r\n" if ctx.prefix[before - 1] == "\r" else "\n"
    after = ctx.suffix.find("\n")
    if after > 0:
        return "\r\n" if ctx.suffix[after - 1] == "\r" else "\n"
    return "\n"


def _detect_indent_unit(lines: list[str]) -> str:
    """Tabs or the most common step between indentation levels (4 spaces when unsure)."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    previous = 0
    for line in lines:
        if is_blank(line):
            continue
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith(" "):
            spaces += 1
        width = indent_width(line)
        if width > previous and not line.startswith("\t"):
            steps[width - previous] += 1
        previous = width
    if tabs > spaces:
        return "\t"
    for step, _count in steps.most_common():
        if step in (2, 3, 4, 8):
            return " " * step
    return "    "


@lru_cache(maxsize=64)
def view_of(ctx: PostContext) -> View:
    """Build the view of a context (cached: `stream_done` asks for it on every delta)."""
    prefix = ctx.prefix[-_SCAN_CHARS:].replace("\r\n", "\n")
    suffix = ctx.suffix[: _SCAN_CHARS // 2].replace("\r\n", "\n")
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    rest_end = suffix.find("\n")
    line_rest = suffix if rest_end < 0 else suffix[:rest_end]
    after = tuple(suffix[rest_end + 1 :].split("\n")[:_AFTER_LINES]) if rest_end >= 0 else ()
    syntax = syntax_of(ctx.language_id)
    head = prefix[: len(prefix) - len(line_prefix)]
    line_start = Scanner(syntax)
    if head:
        line_start.feed_lines(head[:-1])
        line_start.newline()
    # Brackets count from the cursor's line: the rules compare depths within the suggestion.
    line_start.stack.clear()
    line_start.unmatched = 0
    at_cursor = line_start.copy()
    at_cursor.feed(line_prefix)
    prefix_lines = prefix.split("\n")[-_INDENT_SAMPLE_LINES:]
    sample = prefix_lines + list(after)
    aligns = any(_ALIGNED.search(line.strip()) for line in sample if "\t" not in line.strip())
    return View(
        prefix=prefix,
        line_prefix=line_prefix,
        line_rest=line_rest,
        after=after,
        language=ctx.language_id.lower(),
        syntax=syntax,
        eol=_detect_eol(ctx),
        indent_unit=_detect_indent_unit(sample),
        aligns=aligns,
        line_start=line_start,
        at_cursor=at_cursor,
    )
