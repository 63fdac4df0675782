"""Remove runaway repetition: a model stuck in a loop repeats one line or block until its token limit."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import NamedTuple

from ._view import is_blank, leading_ws

# A line must repeat this many times in a row to be a loop (code does repeat lines twice); short
# lines (`NULL,`, `#endif`) repeat in tables and headers, so they need more copies.
_LINE_COPIES = 4
_SHORT_LINE_COPIES = 5
_SHORT_LINE = 8
_TINY_LINE_COPIES = 6
_TINY_LINE = 3
_BLOCK_COPIES = 3
MAX_BLOCK_LINES = 8
_MIN_CHARS = 1
_MIN_BLOCK_CHARS = 10
# A declaration written again at once declares the same name twice: a loop from its second copy.
_DECLARATION = re.compile(r"\s*(?:export\s+)?(?:let|const|var|val)\s+[\w$]+\s*(?::[^=]+)?=[^=]")
_DECLARATION_COPIES = 2


def cut(lines: list[str]) -> int | None:
    """Index just after the first copy of a line or block repeated back to back, or None.

    Decided from lines[0..i] alone, so a streamed prefix that holds the cut keeps it.
    """
    for i in range(len(lines)):
        for size in range(1, MAX_BLOCK_LINES + 1):
            block = [ln.rstrip() for ln in lines[max(0, i + 1 - size) : i + 1]]
            chars = sum(len(ln.strip()) for ln in block)
            if size > 1:
                copies = _BLOCK_COPIES
            elif _DECLARATION.match(block[0]):
                copies = _DECLARATION_COPIES
            elif chars >= _SHORT_LINE:
                copies = _LINE_COPIES
            else:
                copies = _SHORT_LINE_COPIES if chars >= _TINY_LINE else _TINY_LINE_COPIES
            start = i + 1 - copies * size
            if start < 0:
                break
            if chars < _MIN_CHARS or (
                size > 1 and (chars < _MIN_BLOCK_CHARS or len(set(block)) == 1)
            ):
                # A block of one repeated line is that line's run, judged with its own threshold.
                continue
            if all(
                [ln.rstrip() for ln in lines[start + k * size : start + (k + 1) * size]] == block
                for k in range(copies - 1)
            ):
                return start + size
    return None


# Near copies: the loop changes a name or a number each time (`test_add_2`, `test_add_3`...).
_NEAR_COPIES = 4
_NEAR_LINE_COPIES = 5
_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`|\w+")
# A line of a numeric literal's items: numbers, signs, commas, brackets (no names, no strings),
# with a digit among them (checked apart: `[…]*\d[…]*` would try every split of a long run).
_NUMBER_CHARS = re.compile(r"[\d\s.,;+\-\[\]()]*")
# Arms of one switch look alike by nature: they are not a loop.
_LABEL = re.compile(r"\s*(case|when|default)\b")
_SAME_START = 3
_NEAR_SHARE = 0.8


class _Key(NamedTuple):
    """What near-copy tests compare of a line, computed once per line."""

    line: str
    indent: str
    start: str
    no_digits: str
    shape: str
    digits: tuple[str, ...]


def _key(line: str) -> _Key:
    body = line.strip()
    return _Key(
        line.rstrip(),
        leading_ws(line),
        body[:_SAME_START],
        _DIGITS.sub("", body),
        _TOKEN.sub("X", body),
        tuple(_DIGITS.findall(body)),
    )


def _near_line(a: _Key, b: _Key) -> bool:
    """One line of a loop's copy against the same line of the copy before: only numbers
    changed, or (inside a block) only names and literals, keeping the line's start."""
    if a.line == b.line:
        return True
    if a.indent != b.indent or a.start != b.start:
        return False
    return a.no_digits == b.no_digits or a.shape == b.shape


def _near_single(a: _Key, b: _Key) -> bool:
    """A lone line copied with its numbers changed (`Tuple4<T> = [T, T, T, T]`, then `Tuple5`...)."""
    if a.indent != b.indent or a.digits == b.digits:
        return False
    x, y = a.no_digits, b.no_digits
    if x == y:
        return True
    common = 0
    while common < min(len(x), len(y)) and x[common] == y[common]:
        common += 1
    end = 0
    while end < min(len(x), len(y)) - common and x[-1 - end] == y[-1 - end]:
        end += 1
    return common >= _SAME_START and common + end >= _NEAR_SHARE * max(len(x), len(y))


def _counts(copies: list[_Key]) -> bool:
    """Whether some number in the lines counts up or down by a constant step."""
    numbers = [[int(d) for d in key.digits] for key in copies]
    if len(numbers) < _NEAR_COPIES - 1 or len({len(n) for n in numbers}) != 1:
        return False
    for k in range(len(numbers[0])):
        steps = {b[k] - a[k] for a, b in pairwise(numbers)}
        if len(steps) == 1 and 0 not in steps:
            return True
    return False


def _near_block(block: list[_Key], other: list[_Key]) -> bool:
    if len(block) == 1:
        return _near_single(block[0], other[0])
    return all(_near_line(a, b) for a, b in zip(block, other, strict=False))


def _near_start(block: list[_Key], partial: list[_Key]) -> bool:
    """A copy the token limit cut short: whole lines near the block's, the last one a start of its."""
    if not all(_near_line(a, b) for a, b in zip(block, partial[:-1], strict=False)):
        return False
    ours, cut_short = block[len(partial) - 1], partial[-1]
    if not cut_short.line.strip():
        return not ours.line.strip()
    # The cut may fall inside a string or a name: its unfinished token is left out.
    shape = cut_short.shape.rstrip("X\"'`")
    return ours.no_digits.startswith(cut_short.no_digits) or ours.shape.startswith(shape)


def near_cut(lines: list[str], final: bool) -> int | None:
    """Index just after the first of several near copies of a line or block, or None.

    A loop that changes names or numbers runs to the token limit: its last copy may be cut
    short, which counts only when the text is `final` (a stream would still be sending it).
    """
    n = len(lines)
    keys = [_key(line) for line in lines]
    for start in range(n):
        first = lines[start]
        if is_blank(first) or _LABEL.match(first):
            continue
        # Lines that are only numbers (`1,`, `[3, 4],`) are a literal's items, not a loop.
        stripped = keys[start].line.strip()
        data = (
            _NUMBER_CHARS.fullmatch(stripped) is not None and _DIGITS.search(stripped) is not None
        )
        for size in range(1 + data, MAX_BLOCK_LINES + 1):
            if start + size * (_NEAR_COPIES - 1) > n:
                break
            block = keys[start : start + size]
            if size > 1 and (
                sum(len(k.line.strip()) for k in block) < _MIN_BLOCK_CHARS
                or len({k.shape for k in block}) == 1
                or any(len(k.indent) < len(block[0].indent) for k in block if k.line.strip())
            ):
                # A block of one line's shape is that line's run, judged as such.
                continue
            copies = 1
            at = start + size
            # Each copy is compared with the one before: a loop may drift (`[T, T]`, `[T, T, T]`).
            previous = block
            while at + size <= n and _near_block(previous, keys[at : at + size]):
                previous = keys[at : at + size]
                copies += 1
                at += size
            if final and 0 < n - at < size and _near_start(previous, keys[at:]):
                # The token limit cut the last copy short.
                copies += 1
            if size == 1:
                # Lone lines repeat in tables: only a long run counting up is a loop.
                enough = copies >= _NEAR_LINE_COPIES and _counts(keys[start + 1 : at])
            else:
                enough = copies >= _NEAR_COPIES
            if enough and any(keys[start + k] != keys[start + size + k] for k in range(size)):
                return start + size
    return None


# A phrase repeated to the end of the line: `x = x = x = ...`, a sentence again and again.
# Words and gaps are bounded: unbounded, each start in a long run of word characters would scan
# the run again (a 5000-digit line took 0.7 s).
_IN_LINE = re.compile(r"((?:\w{1,64}\W{1,64}){1,12}?)\1+")
_ASSIGNMENT = re.compile(r"[\w.]+\s*=\s*\Z")
_SENTENCE = re.compile(r".*\w[.!?]\s+\Z")
_IN_LINE_COPIES = 3
# Any other phrase must be long and loop long: rows of cells or arguments repeat by design.
_PHRASE_CHARS = 12
_PHRASE_COPIES = 6
_SENTENCE_CHARS = 20


def in_line(line: str) -> int | None:
    """Where a line starts looping on one phrase (the start of its second copy), or None."""
    for match in _IN_LINE.finditer(line):
        unit = match.group(1)
        if _ASSIGNMENT.match(unit) or (len(unit) >= _SENTENCE_CHARS and _SENTENCE.match(unit)):
            needed = _IN_LINE_COPIES
        elif len(unit) >= _PHRASE_CHARS:
            needed = _PHRASE_COPIES
        else:
            continue
        tail = line[match.end() :]
        # The loop runs to the line's end (the last copy may be cut short).
        if not (unit.startswith(tail) or unit.rstrip().startswith(tail.rstrip())):
            continue
        copies = (match.end() - match.start()) // len(unit) + (1 if tail.strip() else 0)
        if copies >= needed:
            return match.start() + len(unit)
    return None


# `case BLUE + 1:`, `case SUN2:`: a label made from an earlier one with a number added.
_NUMBER_ADDED = re.compile(r"\s*[+-]?\s*\d+")
_INVENTED_RUN = 2


def label_cut(lines: list[str]) -> int | None:
    """Index of the first of a run of invented case labels (an earlier label plus a number)."""
    seen: set[str] = set()
    run_start: int | None = None
    run = 0
    for i, line in enumerate(lines):
        if not _LABEL.match(line):
            continue
        label = line.strip()
        plain = _NUMBER_ADDED.sub("", label)
        if plain != label and plain in seen:
            if run == 0:
                run_start = i
            run += 1
            if run >= _INVENTED_RUN:
                return run_start
        else:
            run = 0
        seen.add(label)
    return None
