"""The cursor's surroundings, normalised once per request so the rules stay small."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ..context import FimContext
from ._syntax import CLOSING, Scanner, Syntax, syntax_of

# How far the rules look around the cursor: enough for every rule, bounded so cost is not the file's.
_AFTER_LINES = 40
_INDENT_SAMPLE_LINES = 200
_SCAN_CHARS = 6000
# Two or more spaces between tokens (not after a sentence, not before a comment): aligned columns.
_EVIDENCE = 8
_NEAR_LINES = 10
# Lines that look like Python code rather than prose.
_CODE_LIKE = re.compile(
    r"[=()\[\]{}]|:\s*$|^\s*(def|class|import|from|return|if|elif|else|for|while|with|try|except|"
    r"raise|assert|pass|break|continue|yield|@)\b"
)
# Blank lines at the end of a text, with the line end before them.
TRAILING_BLANK_LINES = re.compile(r"\n[ \t\n]*\Z")
_ALIGNED = re.compile(r"[^\s.?!] {2,}(?![#/\s*])\S")


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
    # "\t", "  ", "    "...; "" when the file does not show one clearly.
    indent_unit: str
    # Indentation characters used right around the cursor (its line, the nearest indented lines).
    near_indent: str
    # The file puts runs of spaces between tokens (aligned columns): a doubled space may be meant.
    aligns: bool
    # Scanner states at the start of the cursor's line (brackets counted from there) and at the cursor.
    line_start: Scanner
    at_cursor: Scanner
    # Closers in the line's text before the cursor that close earlier lines' brackets.
    prefix_unmatched: int
    # Brackets open at the start of the cursor's line, over the whole prefix; None when unknown.
    open_before: str | None
    # The same, as scanned from the start of the (possibly cut) prefix window.
    open_stack: str
    # Brackets open at the cursor that the document after it does not close (outermost first):
    # the blocks a suggestion may end. None when unknown (cut windows, brackets that do not pair).
    unclosed: str | None
    # Only whitespace after the cursor, to the document's end.
    at_end: bool
    # The windows hide part of the document (before or after): brackets may pair outside them.
    windows_cut: bool
    # The prefix window may start inside brackets it never saw open.
    outer_unknown: bool
    # The `multiline` setting: "auto", "always" or "never".
    multiline: str

    def line_above(self) -> str:
        """The nearest non-blank line before the cursor's line (trailing spaces off), or ""."""
        end = len(self.prefix) - len(self.line_prefix)
        while end > 0 and self.prefix[end - 1].isspace():
            end -= 1
        return self.prefix[self.prefix.rfind("\n", 0, end) + 1 : end]

    def lines_before(self, count: int) -> list[str]:
        """Up to `count` whole lines before the cursor's line, nearest last."""
        return self.prefix.rsplit("\n", count + 1)[-(count + 1) : -1]

    def next_nonblank(self, start: int = 0) -> tuple[int, str] | None:
        """Index and text of the first non-blank line after the cursor's line, from `start`."""
        for i in range(start, len(self.after)):
            if not is_blank(self.after[i]):
                return i, self.after[i]
        return None

    def may_close(self, line: str) -> bool:
        """Whether a line starting with a closer can close a bracket open before the cursor's line."""
        if self.open_before is None or not line or line[0] not in CLOSING:
            return True
        return CLOSING[line[0]] in self.open_before

    def scan_from_line_start(self, text: str) -> Scanner:
        """A scanner over the cursor's line prefix and `text`, counting from the cursor.

        Scanning the prefix and the text together keeps tokens split by the cursor whole (`*/`,
        triple quotes); closers the prefix spent on earlier lines are then forgotten.
        """
        scanner = self.line_start.copy()
        scanner.feed_lines(self.line_prefix + text)
        scanner.unmatched = max(0, scanner.unmatched - self.prefix_unmatched)
        return scanner

    def closes_unknown(self, low: int) -> bool:
        """Whether a depth `low` (counted from the cursor's line) closes brackets opened before
        the prefix window, which the document's balance cannot speak for."""
        return self.outer_unknown and low < -(len(self.open_stack) - self.prefix_unmatched)

    def lacks_closer(self, low: int) -> bool | None:
        """Whether the document lacks the closers a suggestion reaching depth `low` writes
        (False: it has them next); None when its brackets cannot tell."""
        if self.unclosed is None or self.closes_unknown(low):
            return None
        return low >= self.at_cursor.depth - len(self.unclosed)

    @property
    def mid_line(self) -> bool:
        """True when the cursor's line has non-blank text after the cursor."""
        return not is_blank(self.line_rest)


def _string_at_window_start(head: str, syntax: Syntax) -> str | None:
    """A triple-quoted string the window seems to start in: prose before its first quote."""
    triples = [q for q in syntax.quotes if len(q) == 3]
    found = [(head.find(q), q) for q in triples if q in head]
    if not found:
        return None
    at, quote = min(found)
    # Comments say nothing either way; what is left is code or a docstring's prose.
    lines = [ln for ln in head[:at].split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    code = sum(1 for ln in lines if _CODE_LIKE.search(ln))
    return quote if len(lines) - code > code else None


def _detect_eol(ctx: FimContext) -> str:
    """The document's line end, judged from the nearest line ends around the cursor."""
    before = ctx.prompt.rfind("\n")
    if before > 0:
        return "\r\n" if ctx.prompt[before - 1] == "\r" else "\n"
    after = ctx.suffix.find("\n")
    if after > 0:
        return "\r\n" if ctx.suffix[after - 1] == "\r" else "\n"
    return "\n"


def _detect_indent_unit(lines: list[str]) -> str:
    """Tabs or the spaces step between indentation levels; "" unless the file clearly uses one kind."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    previous = 0
    for line in lines:
        body = line.lstrip(" \t")
        if not body or body.startswith("*"):
            # Block-comment continuation lines (` * text`) are aligned, not indented.
            continue
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith("  "):
            spaces += 1
        width = indent_width(line)
        if width > previous and not line.startswith("\t"):
            steps[width - previous] += 1
        previous = width
    # Mixed files (GNU style: tabs for 8 columns, spaces below) keep whatever the model wrote;
    # so does a file with too few indented lines to tell.
    if tabs >= _EVIDENCE and not spaces:
        return "\t"
    if spaces >= _EVIDENCE and not tabs:
        for step, _count in steps.most_common():
            if step in (2, 3, 4, 8):
                return " " * step
    return ""


def _unclosed(
    at_cursor: Scanner, open_stack: str, suffix: str, prefix_whole: bool, suffix_whole: bool
) -> str | None:
    """The brackets open at the cursor that `suffix` leaves open, or None when unknown.

    A window cut from the document hides brackets opened before it or closed after it: the
    suffix closing all the brackets seen open still proves none is missing.
    """
    scanner = at_cursor.copy()
    scanner.stack = [*open_stack, *at_cursor.stack]
    scanner.unmatched = scanner.mismatched = 0
    low = len(scanner.stack)
    opened = scanner.stack[:]
    for k, line in enumerate(suffix.split("\n")):
        if k:
            scanner.newline()
        low = min(low, scanner.feed(line))
    if scanner.mismatched or (scanner.unmatched and prefix_whole):
        # Closers with no opener in a whole document: it does not pair, nothing can be said.
        return None
    if low > 0 and not suffix_whole:
        # The missing closers may stand past the window.
        return None
    return "".join(opened[: max(0, low)])


@lru_cache(maxsize=64)
def view_of(ctx: FimContext) -> View:
    """Build the view of a context (cached: `stream_done` asks for it on every delta)."""
    prefix = ctx.prompt[-_SCAN_CHARS:].replace("\r\n", "\n")
    suffix = ctx.suffix[: _SCAN_CHARS // 2].replace("\r\n", "\n")
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    rest_end = suffix.find("\n")
    line_rest = suffix if rest_end < 0 else suffix[:rest_end]
    after = tuple(suffix[rest_end + 1 :].split("\n")[:_AFTER_LINES]) if rest_end >= 0 else ()
    syntax = syntax_of(ctx.language_id)
    head = prefix[: len(prefix) - len(line_prefix)]
    line_start = Scanner(syntax)
    if ctx.prefix_cut or len(ctx.prompt) > len(prefix):
        # The window may begin inside a docstring, which would invert every quote after it.
        line_start.string = _string_at_window_start(head, syntax)
    code_lines: list[str] = []
    # Comment lines are aligned prose: they say nothing about indentation or alignment of code.
    comment_starts = (
        (*syntax.line_comments, "/*", "*") if syntax.block_comment else syntax.line_comments
    )
    for line in head.split("\n")[:-1]:
        if line_start.in_code and not line.lstrip().startswith(comment_starts):
            code_lines.append(line)
        line_start.feed(line)
        line_start.newline()
    # A prefix cut to its window (or unbalanced) may start inside brackets we never saw open.
    whole = not line_start.unmatched and not ctx.prefix_cut and len(ctx.prompt) < _SCAN_CHARS
    open_stack = "".join(line_start.stack)
    open_before = open_stack if whole else None
    # Brackets count from the cursor's line: the rules compare depths within the suggestion.
    line_start.stack.clear()
    line_start.unmatched = 0
    at_cursor = line_start.copy()
    at_cursor.feed(line_prefix)
    # `} else {`: the `}` closed an earlier line's bracket; only what this line opened counts.
    prefix_unmatched = at_cursor.unmatched
    at_cursor.unmatched = 0
    # What the suffix closes is known only when the window holds all of it.
    suffix_whole = not ctx.suffix_cut and len(ctx.suffix) <= _SCAN_CHARS // 2
    unclosed = _unclosed(
        at_cursor,
        open_stack[: len(open_stack) - prefix_unmatched],
        suffix,
        open_before is not None,
        suffix_whole,
    )
    sample = code_lines[-_INDENT_SAMPLE_LINES:] + [
        line for line in after if not line.lstrip().startswith(comment_starts)
    ]
    near = [line_prefix] if line_prefix[:1] in (" ", "\t") else []
    near += [ln for ln in reversed(code_lines[-_NEAR_LINES:]) if ln[:1] in (" ", "\t")][:1]
    near += [ln for ln in after[:_NEAR_LINES] if ln[:1] in (" ", "\t") and ln.strip()][:1]
    near_indent = "".join(sorted({ch for ln in near for ch in leading_ws(ln)}))
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
        near_indent=near_indent,
        aligns=aligns,
        line_start=line_start,
        at_cursor=at_cursor,
        prefix_unmatched=prefix_unmatched,
        open_before=open_before,
        open_stack=open_stack,
        unclosed=unclosed,
        at_end=not ctx.suffix.strip() and not ctx.suffix_cut,
        windows_cut=open_before is None or not suffix_whole,
        outer_unknown=open_before is None,
        multiline=ctx.multiline,
    )
