"""Multi-line suggestions end with their block: models run on past it into code that belongs elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import blocks
from ._syntax import BRACELESS, CLOSING, PROSE, Scanner
from ._view import View, indent_width, is_blank
from .rest import closers_only

_LABEL = re.compile(r"[A-Za-z_]\w*:\s*$")
_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", "\\")
# A line ending in a pipe or a binary operator goes on on the next line, often at its level.
_CONTINUES = re.compile(r"(\|>|%>%|%\w*%|&&|\|\||\+|\band|\bor)\s*$")
# A brace alone on its line (Allman style): the block of the statement above opens there.
_ALLMAN = re.compile(r"\s*\{\s*(?://.*|/\*.*)?$")


# A branch that continues a compound statement, and the statements it may follow.
_BRANCH = re.compile(r"\s*(elif|else|except|finally)\b.*:\s*(#.*)?$")
_BRANCH_AFTER = {
    "elif": ("if", "elif"),
    "else": ("if", "elif", "except", "for", "while"),
    "except": ("try", "except"),
    "finally": ("try", "except", "else"),
}
# The next link of a chained call (`.sort()`, `?.name`).
_CHAINED = re.compile(r"\s*\??\.[A-Za-z_$]")


# How far above the cursor a chain's start or a block's header is looked for.
_LOOK_ABOVE = 200


def _nearest_above(view: View, wanted: Callable[[str], bool]) -> str | None:
    """The nearest non-blank line before the cursor's line that is `wanted`, or None."""
    for line in reversed(view.lines_before(_LOOK_ABOVE)):
        if not is_blank(line) and wanted(line):
            return line
    return None


def _chain_start_indent(view: View) -> int:
    """The indentation of the line a chain of `.call()` lines before the cursor hangs from."""
    line = _nearest_above(view, lambda ln: not _CHAINED.match(ln))
    return 0 if line is None else indent_width(line)


def _header_above(view: View, base: int) -> tuple[int, str]:
    """The nearest line before the cursor's line indented less than `base` (width, text)."""
    line = _nearest_above(view, lambda ln: indent_width(ln) < base)
    return (-1, "") if line is None else (indent_width(line), line.strip())


def _branch_of(stripped: str, header: tuple[int, str]) -> bool:
    """`elif`/`else`/`except`/`finally` that may follow the statement `header` opens."""
    match = _BRANCH.match(stripped)
    if match is None:
        return False
    opener = re.match(r"\w+", header[1])
    return opener is not None and opener.group() in _BRANCH_AFTER[match.group(1)]


def _opens_block(line: str) -> bool:
    return line.rstrip().endswith(_BLOCK_OPENERS)


def _keeps_column(stripped: str, preprocessor: bool) -> bool:
    """Lines that sit at column 0 whatever the nesting: preprocessor directives, C labels."""
    return (preprocessor and stripped.startswith("#")) or bool(_LABEL.match(stripped))


def scanner_top(scanner: Scanner, depth: int) -> str:
    """The innermost open bracket when `depth` brackets are open, or ""."""
    return scanner.stack[depth - 1] if 0 < depth <= len(scanner.stack) else ""


def cut(lines: list[str], view: View, final: bool = True) -> int | None:
    """Index of the first line past the block the suggestion started in, or None.

    Decided from lines[0..i] alone, so a streamed prefix that holds the cut keeps it; only
    comments left of the block at the very end wait for `final` (all the model sent).
    """
    if len(lines) < 2:
        return None
    line_prefix = view.line_prefix
    first = line_prefix + lines[0]
    if is_blank(first):
        return None
    same_level = allman = False
    scanner = view.scan_from_line_start(lines[0])
    first_depth = scanner.depth
    # Brackets opened before the cursor on its line and still open after the first line: the
    # suggestion lives inside them, and the line that closes them ends it.
    hold = max(0, min(view.at_cursor.depth, first_depth))
    nxt = view.next_nonblank()
    suffix_indent = indent_width(nxt[1]) if nxt else None

    if not is_blank(line_prefix):
        base = indent_width(line_prefix)
        if (
            view.at_cursor.in_line_comment
            or view.language in PROSE
            or (view.at_cursor.string is not None and scanner.in_code and first_depth <= 0)
            or (view.multiline == "always" and scanner.in_code and first_depth <= 0)
        ):
            # A comment, a line of prose or a docstring the first line closes ends with its
            # line: the next lines are new statements ("always": so does any complete line).
            inside = False
        elif not is_blank(lines[0]):
            # Mid-statement: only continuation lines (deeper) belong to it.
            if suffix_indent is not None and suffix_indent > base:
                # The lines that continue this statement are already in the document.
                return 1
            if (
                nxt is not None
                and nxt[0] == 0
                and first.rstrip().endswith("{")
                and first_depth > max(0, view.at_cursor.depth)
                and nxt[1].lstrip()[:1] not in CLOSING
                and suffix_indent is not None
                and suffix_indent >= base
            ):
                # It opens a block whose body the document holds right below (`namespace a {`).
                return 1
            inside = True
            # Unless the document already has it, an Allman `{` may open the statement's block.
            allman = first_depth <= 0 and not (nxt is not None and _ALLMAN.match(nxt[1]))
            # At the end of the file, inside a block the document leaves open, the statement's
            # block goes on after it (the user writes its code there); at the top level the
            # lines after the statement are new code the model ran on into.
            same_level = view.at_end and view.open_before != ""
        else:
            ref = next((ln for ln in lines[1:] if not is_blank(ln)), None)
            inside = (
                _opens_block(line_prefix)
                or first_depth > 0
                or (ref is not None and indent_width(ref) > base)
            )
            same_level = inside and (view.at_end or BRACELESS.match(line_prefix) is not None)
    else:
        base = indent_width(first)
        inside = False
        if not view.syntax.indent_blocks and _CHAINED.match(first):
            # A chained call's next link (`.sort()`): the statement, and the block the lines
            # after it belong to, start on the line the chain hangs from.
            base = min(base, _chain_start_indent(view))
        elif not view.syntax.indent_blocks:
            above = view.line_above()
            if BRACELESS.match(above) and indent_width(above) < base:
                # The one-statement body of a braceless `if (...)` above: the lines after it
                # go on at the `if`'s level.
                base = indent_width(above)
    if inside and view.syntax.indent_blocks:
        same_level = False
    # inside: lines must be deeper than `base`; otherwise at least as deep (same-level statements).
    limit = base + 1 if inside and not same_level else base
    # A line closing a block opened before the cursor's line is wanted only where the document
    # closes that block right after the cursor (or ends): elsewhere the block goes on.
    closer_next = nxt is not None and nxt[1].lstrip()[:1] in CLOSING
    bare_closer_next = closer_next and nxt is not None and closers_only(nxt[1])
    closing_allowed = nxt is None or (
        closer_next
        and suffix_indent is not None
        and suffix_indent < (limit if inside and is_blank(lines[0]) else base)
    )
    # After a complete line the document may leave levels open: the code after the cursor is
    # shallower (the user is filling a gap down to it). Lines down to that level, right after
    # the ones before them, finish the open blocks as the document does next; after a blank
    # line they are more likely new code the model ran on into.
    gap_floor = body_indent = None
    # (A closing bracket next is the end of the cursor's own block: no level is left open.)
    if not inside and suffix_indent is not None and not closer_next:
        if suffix_indent < base:
            gap_floor = suffix_indent
        # Or the document goes on with the body of a block that a dedented line of the
        # suggestion opens (an `elif`, a loop): such a line must be shallower than that body.
        if is_blank(lines[0]) and suffix_indent <= base:
            body_indent = suffix_indent
    # Same-level statements mid-block: a blank line after a complete one ends the suggestion.
    stop_at_blank = not inside and suffix_indent is not None and suffix_indent >= base
    # At the end of the file too, once the statement's block goes on: after a blank line the
    # model is more likely running on into new code.
    stop_at_blank = stop_at_blank or same_level
    syntax = view.syntax
    # (A `*` line outside a comment is not a comment's continuation: `*/` twice is noise.)
    comment_marks = (*syntax.line_comments, "/*") if syntax.block_comment else syntax.line_comments
    # The document's next line continues a ` * ` block comment.
    starred = nxt is not None and nxt[1].lstrip()[:1] == "*" and nxt[1].lstrip()[:2] != "*/"
    # The first line ends in a pipe or an operator: the statement goes on below it.
    continues = first_depth <= 0 and scanner.in_code and bool(_CONTINUES.search(first))
    # A decorator or annotation line goes on with what it decorates, at its level.
    continues = continues or (first.lstrip().startswith("@") and first_depth <= 0)
    blank_at: int | None = None
    # The line whose block the cursor is in (its indentation and text), found when needed.
    header: tuple[int, str] | None = None
    # Comment lines may sit at any indentation: they belong to whatever code follows them.
    comments_from: int | None = None
    # The first of the comment lines left of the block since the last line of code: at the end
    # of the answer they introduce code that never came.
    shallow_comments: int | None = None
    for i in range(1, len(lines)):
        line = lines[i]
        start_depth = scanner.depth
        top = scanner_top(scanner, start_depth)
        in_comment = scanner.in_block_comment
        in_text = (
            scanner.string is not None or scanner.in_block_comment or scanner.heredoc is not None
        )
        heredoc = scanner.heredoc is not None
        scanner.newline()
        # The lowest depth reached on the line: `} else {` closes, then reopens.
        low = scanner.feed(line)
        if is_blank(line):
            if blank_at is None and not in_text and start_depth <= 0:
                blank_at = i
            continue
        if stop_at_blank and blank_at is not None:
            return blank_at
        after_blank = blank_at is not None
        blank_at = None
        stripped = line.lstrip()
        width = indent_width(line)
        if in_text or not (comment_marks and stripped.startswith(comment_marks)):
            shallow_comments = None
        elif shallow_comments is None and width < limit:
            shallow_comments = i
        if in_text:
            # Comment and docstring text lines up with where it started; a line left of the
            # cursor's line has left it.
            if width < base and not heredoc:
                return i
            if in_comment and starred and not stripped.startswith("*"):
                # The document's block comment goes on with ` * ` lines: code is not in it.
                return i
            continue
        if hold and scanner.depth < hold:
            # The line closes the bracket that was open at the cursor: it ends the suggestion,
            # if it is that bracket's closer, not left of the line that opened it.
            if stripped[:1] in CLOSING and (CLOSING[stripped[0]] != top or width < base):
                return i
            if not (syntax.indent_blocks and line.rstrip().endswith(":")):
                return i + 1
            # `):` ends a header (`def f(a,` ... `):`): its body follows, deeper than it.
            hold = 0
            limit = base + 1
            gap_floor = body_indent = None
            continue
        if low < min(0, first_depth, start_depth):
            # The line closes a block opened before the cursor's line.
            if (
                bare_closer_next
                and low == min(0, first_depth) - 1
                and scanner.depth == start_depth
                and width == suffix_indent
                and stripped[:1] in CLOSING
                and line.rstrip().endswith("{")
            ):
                # `} else {`, `} catch (e) {`: the statement goes on in a block the document
                # lacks, before the closer it has next (which ends the suggestion).
                continue
            if view.lacks_closer(low) is None:
                if (
                    view.windows_cut
                    and closer_next
                    and suffix_indent is not None
                    and width > suffix_indent
                    and view.may_close(stripped)
                ):
                    # Deeper than the document's next closer: it ends an inner block the
                    # document leaves open, and the lines after it belong to the outer one.
                    base = limit = width
                    gap_floor = body_indent = None
                    comments_from = None
                    continue
                if (
                    view.windows_cut
                    and view.at_cursor.in_code
                    and not closer_next
                    and suffix_indent is not None
                    and suffix_indent <= width < base
                    and view.may_close(stripped)
                ):
                    # The block's body is indented and the document goes on at the closer's
                    # level without closing it: it lacks the closer.
                    return i + 1
                return i + 1 if closing_allowed and view.may_close(stripped) else i
            # The document's brackets say how many blocks it lacks the end of.
            if not view.lacks_closer(low):
                return i
            if (
                not closer_next
                and suffix_indent is not None
                and suffix_indent >= max(base, width + 1)
            ):
                # The document goes on inside that block, at the cursor's level, below the
                # cursor: its end comes later.
                return i
            outermost = len(view.open_stack) - view.prefix_unmatched + low <= 0
            if not view.lacks_closer(low - 1) and outermost and not view.outer_unknown:
                # The last block the document lacks the end of, and none is open around it.
                return i + 1
            # The document closes the enclosing block: lines at this level still belong to it,
            # up to a blank line (after it, the model is more likely running on into new code).
            base = limit = width
            stop_at_blank = True
            gap_floor = body_indent = None
            comments_from = None
            continue
        if start_depth > hold:
            # Inside brackets the suggestion opened: they decide, though not left of its start.
            if width < base and not _keeps_column(stripped, syntax.preprocessor):
                if scanner.depth == hold and stripped[:1] in CLOSING and comments_from is None:
                    # The closer of the suggestion's own brackets, left of its start (the
                    # model indented the block too shallow): without it they stay open.
                    return i + 1
                return comments_from if comments_from is not None else i
            comments_from = None
            continue
        if start_depth > 0:
            # Inside `(` or `[` open at the cursor, lines continue deeper than the cursor's line
            # or close it; a `{` block (namespaces, case labels) is left to its brackets.
            if top in ("(", "[") and stripped[:1] not in CLOSING and width <= base:
                return comments_from if comments_from is not None else i
            continue
        if syntax.preprocessor and stripped.startswith("#"):
            continue
        if comment_marks and stripped.startswith(comment_marks):
            if comments_from is None:
                comments_from = i
            continue
        if (
            allman
            and width == base
            and not after_blank
            and _ALLMAN.match(line)
            and syntax.block_comment  # the C family, where braces are written this way
        ):
            # The statement finished on the cursor's line opens its block on this one (Allman
            # braces): the block's lines follow inside it, and its closer ends the suggestion.
            allman = False
            comments_from = None
            continue
        allman = False
        ends = blocks.state([first, *lines[1:i]], line, view)
        if ends == "duplicate":
            return comments_from if comments_from is not None else i
        if ends == "missing":
            if width == 0:
                return i + 1
            base = limit = width
            gap_floor = body_indent = None
            comments_from = None
            continue
        if continues and width >= base and not after_blank:
            # The statement goes on (`x > 0) |>` then `summarise(...)`).
            continues = bool(_CONTINUES.search(line))
            comments_from = None
            continue
        continues = False
        if (
            width < limit
            and not after_blank
            and syntax.indent_blocks
            and _branch_of(stripped, header := header or _header_above(view, base))
            and width == header[0]
            and (nxt is None or ((suffix_indent or 0) <= width and not _BRANCH.match(nxt[1])))
        ):
            # `elif`/`else`/`except` after the body of the block the cursor is in: the
            # statement goes on (the document has no branch there), in a body deeper than it.
            base, limit = width, width + 1
            header = (width, stripped)
            gap_floor = body_indent = None
            comments_from = None
            continue
        if width < limit and (after_blank or gap_floor is None or width < gap_floor):
            if (
                body_indent is not None
                and width < body_indent
                and not after_blank
                and _opens_block(line)
            ):
                # The line bridges to the body the document holds, and ends the suggestion.
                return i + 1
            return comments_from if comments_from is not None else i
        comments_from = None
    return shallow_comments if final else None
