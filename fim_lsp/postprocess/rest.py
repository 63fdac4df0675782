"""The rest of the cursor's line: cover auto-inserted closers exactly once, cut text that repeats it."""

from __future__ import annotations

import re

from ._syntax import ANGLE_BRACKETS, CLOSING, Scanner, Syntax
from ._view import View

# What editors insert after the cursor on their own (auto-closed pairs) or users leave there.
# Closers an editor inserts after the cursor by itself (auto-closed pairs).
AUTO_CLOSED = frozenset(")]}>\"'`")
CLOSER_CHARS = AUTO_CLOSED | frozenset(";,: \t")
_SEAM_PUNCTUATION = frozenset(";,:")
# A repeated rest shorter than this could be a coincidence inside the answer.
_MIN_REPEAT = 4
_LOOKAHEAD_LINES = 40
# `<` opening a tag or type arguments; `>` closing one (not `=>`, `->`, `>=`, nor a spaced comparison).
_ANGLE_OPEN = re.compile(r"<(?=[A-Za-z_/>])")
_ANGLE_CLOSE = re.compile(r"(?<![=\-\s])>(?!=)")
_PLAIN = Syntax(
    line_comments=(), block_comment=False, quotes=(), preprocessor=False, indent_blocks=False
)


def closers_only(rest: str) -> bool:
    """True when the rest of the line is only closing brackets, quotes and punctuation."""
    return bool(rest.strip()) and all(ch in CLOSER_CHARS for ch in rest)


def cut_repeated_rest(text: str, view: View) -> str:
    """Cut the part of a one-line suggestion that repeats the text after the cursor.

    Models re-type the rest of the line whole (`a, "x", y)` before `, "x", y)`), in part
    (`y_fit, "r-")` before `, "r-", label="fit")`) or with their own closers (`'/')` before
    `).map(...)`): the suggestion ends where that starts.
    """
    rest = view.line_rest.strip()
    if not rest or closers_only(view.line_rest):
        return text
    whole = view.line_rest.rstrip()
    if text.rstrip().endswith(whole):
        return text.rstrip()[: -len(whole)]
    if text.rstrip().endswith(rest):
        return text.rstrip()[: -len(rest)].rstrip()
    if len(rest) >= _MIN_REPEAT:
        at = text.find(rest)
        if at >= 0:
            return text[:at]
    if "\n" in text:
        return text
    partial = _partial_repeat(text, view.line_rest)
    if partial is not None:
        return text[:partial]
    return _balanced_start(text, view)


def retyped_then_more(text: str, view: View) -> bool:
    """The one-line text re-types the whole rest of the line and goes on after it.

    `List<█> _messages` + `Message> _messages = new();`: the text replaces the rest.
    """
    rest = view.line_rest.strip()
    if not rest or closers_only(view.line_rest) or "\n" in text or len(rest) < _MIN_REPEAT:
        return False
    at = text.find(rest)
    return at > 0 and bool(text[at + len(rest) :].strip())


def splits_word(text: str, view: View) -> bool:
    """The cursor is inside a word and the text is not made of word characters: the word's
    end would be left glued to it (`wo█rd` + `word smithery!` gives `woword smithery!rd`)."""
    before, after = view.line_prefix[-1:], view.line_rest[:1]
    return _is_word(before) and _is_word(after) and not all(_is_word(ch) for ch in text)


def _partial_repeat(text: str, rest: str) -> int | None:
    """Where the text starts re-typing the beginning of the rest (a few characters with a word)."""
    for at in range(1, len(text)):
        common = 0
        while common < min(len(text) - at, len(rest)) and text[at + common] == rest[common]:
            common += 1
        # The repeat must end on a word's end: `).count()` does not re-type `).collect()`.
        whole_word = common == len(rest) or not (
            _is_word(rest[common]) and _is_word(rest[common - 1])
        )
        if common >= _MIN_REPEAT and whole_word and any(ch.isalnum() for ch in rest[:common]):
            return at
    return None


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _balanced_start(text: str, view: View) -> str:
    """The longest start of `text` that leaves the line's brackets balanced before the rest.

    Only when the whole text breaks the balance: it then re-writes a closer the rest has.
    """
    rest = view.line_rest
    angles = view.language in ANGLE_BRACKETS and ">" in rest

    def score_of(candidate: str) -> int:
        line = view.line_prefix + candidate + rest
        return _imbalance(view, candidate + rest) + (_angle_imbalance(line) if angles else 0)

    best_score = score_of(text)
    if best_score == 0:
        return text
    lead = rest.lstrip()[:1]
    best = text
    for at in range(len(text) - 1, 0, -1):
        if text[at] != lead:
            continue
        candidate = text[:at].rstrip(" \t") if rest[:1].isspace() else text[:at]
        score = score_of(candidate)
        if score < best_score:
            best, best_score = candidate, score
            if not score:
                break
    return best


def _imbalance(view: View, candidate: str) -> int:
    """Bracket errors with `candidate` in place: wrong or extra closers, and `(`/`[` left open.

    The lines after the cursor count too: they show whether a bracket still open at the cursor
    is closed later in the document or must be closed on this line.
    """
    start = view.line_start
    comment = view.at_cursor.in_block_comment or view.at_cursor.in_line_comment
    if start.string is not None or start.in_block_comment or comment:
        # Inside a comment or docstring brackets still pair up, though the code scanner skips them.
        scanner = Scanner(_PLAIN)
        scanner.feed_lines(view.line_prefix + candidate)
        return len(scanner.stack) + scanner.unmatched + scanner.mismatched
    scanner = start.copy()
    outer = view.open_stack
    scanner.stack = list(outer)
    low = len(outer)
    for k, line in enumerate((view.line_prefix + candidate).split("\n")):
        if k:
            scanner.newline()
        low = min(low, scanner.feed(line))
    # A `{` block opened on an earlier line does not end mid-line right after the cursor.
    closed_blocks = outer[max(0, low) :].count("{")
    open_string = int(scanner.string in ('"', "'", "`"))
    scanner.newline()
    for line in view.after[:_LOOKAHEAD_LINES]:
        scanner.feed(line)
        scanner.newline()
    still_open = sum(1 for b in scanner.stack if b in "([")
    return still_open + closed_blocks + scanner.unmatched + scanner.mismatched + open_string


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def _angle_imbalance(line: str) -> int:
    """`<` of tags and generics left open or `>` without one, on one line (comparisons and arrows skipped)."""
    return abs(len(_ANGLE_OPEN.findall(line)) - len(_ANGLE_CLOSE.findall(line)))


def fit_closers(text: str, view: View) -> tuple[str, int]:
    """Return (text, replace): the suggestion covers the rest of the line and ends with it once.

    The model may re-write any leading part of the closers anywhere in its text (`sep) + 1` over
    `)`, `total: ", n);` over `");`): the candidate that leaves the brackets balanced wins.
    """
    rest = view.line_rest
    if not closers_only(rest):
        return text, 0
    core = rest.lstrip()
    if text.endswith("\n") and "\n" not in text.rstrip():
        # One line then a newline: the model ended its line, the closers follow on it.
        text = text.rstrip()
    head = text.rstrip(" \t") if not text.endswith("\n") else text
    # The model re-wrote rest[:k] somewhere in its text; the rest of the closers follow it, on
    # the line where the model wrote them (its trailing newline ended that line).
    line_end = text.rstrip(" \t\n")
    candidates = [text + rest, *(line_end + rest[k:] for k in range(1, len(rest) + 1))]
    candidates += [head + core[k:] for k in range(1, len(core) + 1) if head.endswith(core[:k])]
    # The model may have typed past the closers (`a, b);` over `)`): its own tail holds them.
    tail_start = len(head)
    while tail_start > 0 and head[tail_start - 1] in CLOSER_CHARS:
        tail_start -= 1
    if _is_subsequence(core.replace(" ", ""), head[tail_start:]):
        candidates.append(head)
    # A line that already ends with the closers, then a newline: the newline would push them down.
    stripped = text.rstrip("\n")
    if stripped != text and stripped.rstrip(" \t").endswith(core):
        candidates.append(stripped.rstrip(" \t"))
    angles = ">" in rest and view.language in ANGLE_BRACKETS
    # A first line that ends with the closers (`a, b):`, `items:`), then a body: they were
    # re-written there, and the body's last line must not get them again.
    body_after = (
        "\n" in text.strip()
        and any(ch in CLOSING or ch == ":" for ch in core)
        and text.split("\n", 1)[0].rstrip().endswith(core)
    )
    if body_after:
        candidates.append(text.rstrip())

    def score(candidate: str) -> tuple[int, int, int, int, int]:
        doubled = sum(candidate.count(p * 2) for p in _SEAM_PUNCTUATION)
        last = (view.line_prefix + candidate).rsplit("\n", 1)[-1]
        angle = _angle_imbalance(last) if angles else 0
        moved = int(body_after and candidate != text.rstrip())
        # Fewest brackets left unbalanced; then no `;;`; then drop as little as possible.
        return (
            _imbalance(view, candidate),
            angle,
            doubled,
            moved,
            len(text + rest) - len(candidate),
        )

    best = min(candidates, key=score)
    # The suggestion replaces the whole rest: spaces it ends with would trail on the line.
    return best.rstrip(" \t"), len(rest)
