"""Markdown code fences: chat models wrap their answer in ```lang ... ```, often with a sentence."""

from __future__ import annotations

import re

from ._view import View, is_blank

_FENCE = re.compile(r"[ \t]*```[\w+#.-]*[ \t]*\Z")
# A sentence introducing the answer: "Here is the function:", "Sure! Here's how:".
_PROSE = re.compile(r"[A-Z][^`;{}=<>]*\s[^`;{}=<>]*[:.!]\Z")
# A chat model's lead-in to its answer, on a line of its own with no code in it.
_LEAD_IN = re.compile(
    r"(?i)(?:here(?:'s| is| are)|sure|certainly|of course|below is|the following)\b[^`;{}()=<>\[\]]*\Z"
)
# Lines of prose a model may write before its fence.
_MAX_PROSE_LINES = 3
# Documents where a fence is content, not chat noise.
_FENCED_LANGUAGES = frozenset({"markdown", "mdx", "plaintext", "restructuredtext"})
_MARKDOWN_FENCES = frozenset({"```markdown", "```md"})


def _applies(view: View, text: str = "") -> bool:
    if view.language in _FENCED_LANGUAGES:
        # There a fence is content, unless it wraps the whole answer as markdown (outside a fence).
        first = text.lstrip()[:14].split("\n", 1)[0].strip()
        outside = view.prefix.count("\n```") % 2 == 0 and not view.prefix.startswith("```")
        if outside:
            return first in _MARKDOWN_FENCES
        # Inside a fenced block a fence naming a language opens nothing: the model wrapped its
        # code once more (a bare fence would close the block, and is content).
        return first.startswith("```") and first != "```"
    return view.at_cursor.in_code


def _opening(lines: list[str]) -> int | None:
    """Index of the opening fence line, if the text starts with one (after a little prose)."""
    for i, line in enumerate(lines[: _MAX_PROSE_LINES + 1]):
        if _FENCE.match(line):
            return i
        if not is_blank(line) and not _PROSE.match(line.strip()):
            return None
    return None


def _closing(lines: list[str], opener: str) -> int | None:
    """Index of the line that closes the fence `opener` opened (lines after the opener).

    An answer fenced as markdown may hold fenced blocks of its own: a fence with a language
    opens one, a bare fence closes the innermost.
    """
    nested = 0
    for i, line in enumerate(lines):
        if not _FENCE.match(line):
            continue
        if line.strip() != "```":
            if opener in _MARKDOWN_FENCES:
                nested += 1
        elif nested:
            nested -= 1
        else:
            return i
    return None


def _stray_closing(lines: list[str], view: View) -> int | None:
    """Index of a bare fence line after code with no opening fence: the chat answer ends there.

    Not in a document where fences are content, nor in a string or comment (a docstring's
    example).
    """
    if view.language in _FENCED_LANGUAGES or not any(ln.strip() == "```" for ln in lines[1:]):
        return None
    scanner = view.scan_from_line_start(lines[0])
    for i in range(1, len(lines)):
        scanner.newline()
        if lines[i].strip() == "```" and scanner.in_code:
            return i
        scanner.feed(lines[i])
    return None


def _without_lead_in(text: str, view: View) -> str:
    """The answer without a chat lead-in line (`Here is the code:`) and the blank lines after it."""
    first, newline, after = text.partition("\n")
    if not newline or not _LEAD_IN.match(first.strip()) or not is_blank(view.line_prefix):
        return text
    if view.language in _FENCED_LANGUAGES or not after.strip():
        return text
    return after.lstrip("\n")


def strip(text: str, view: View) -> str:
    """The code inside a fenced answer: prose, fence lines and what follows the closing fence removed."""
    if view.at_cursor.in_code:
        text = _without_lead_in(text, view)
    if "```" not in text or not _applies(view, text):
        return text
    lines = text.split("\n")
    start = _opening(lines)
    if start is None:
        stray = _stray_closing(lines, view)
        return text if stray is None else "\n".join(lines[:stray])
    body = lines[start + 1 :]
    end = _closing(body, lines[start].strip())
    if end is not None:
        body = body[:end]
    elif body and body[-1].rstrip().endswith("```") and body[-1].count("```") == 1:
        # The closing fence glued to the last line (`x = 5```).
        body[-1] = body[-1].rstrip()[:-3]
    indent = view.line_prefix
    above = view.line_above()
    if len(body) > 1 and is_blank(indent) and body[0].strip() and body[0].strip() == above.strip():
        # Chat answers re-type the line the cursor follows (a signature): it is there already.
        body = body[1:]
    first = body[0] if body else ""
    if indent and is_blank(indent) and first.startswith(indent):
        # Chat answers are whole lines: the first one repeats the indentation the cursor has.
        body[0] = first[len(indent) :]
    return "\n".join(body)


def pending(text: str, view: View) -> bool:
    """True while the streamed text may still turn out to be prose before a fence."""
    if not _applies(view):
        return False
    lines = text.split("\n")[:-1]
    if "```" in text:
        # An opening fence seen: wait for its closing fence, or the text is the fenced code.
        return False
    return (
        len(lines) <= _MAX_PROSE_LINES
        and any(not is_blank(ln) for ln in lines)
        and all(is_blank(ln) or _PROSE.match(ln.strip()) for ln in lines)
    )


def closed(text: str, view: View) -> bool:
    """True once a fenced answer's closing fence has arrived: nothing after it is kept."""
    if "```" not in text or not _applies(view, text):
        return False
    lines = text.split("\n")
    start = _opening(lines)
    # Only complete lines count: "```" may still grow into "```python".
    if start is None:
        return _stray_closing(lines[:-1], view) is not None
    return _closing(lines[start + 1 : -1], lines[start].strip()) is not None
