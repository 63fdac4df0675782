"""Remove runaway repetition: a model stuck in a loop repeats one line or block until its token limit."""

from __future__ import annotations

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
