"""Pure slicing: document lines + cursor -> the FIM prompt and suffix, within a character budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .related import Snippet


@dataclass(frozen=True)
class FimContext:
    """The text sent to the model around one cursor position, and what post-processing needs of it.

    `prefix_cut` / `suffix_cut`: the window stops at the budget, not at the document's start / end.
    `multiline`: the `multiline` setting ("auto", "always" or "never").
    `extra`: code from other files, sent beside the local window (never mixed into it: typing
    through, stream reuse and post-processing work on the cursor's file alone); `repo`: the
    workspace folder's name, for templates with repository tokens. `path` is the file's path as
    the model should see it.
    """

    prompt: str
    suffix: str
    language_id: str = ""
    path: str = ""
    prefix_cut: bool = False
    suffix_cut: bool = False
    multiline: str = "auto"
    extra: tuple[Snippet, ...] = ()
    repo: str = ""


def slice_context(
    lines: Sequence[str],
    line: int,
    index: int,
    max_prefix: int,
    max_suffix: int,
    language_id: str = "",
    path: str = "",
    multiline: str = "auto",
) -> FimContext:
    """Cut `prompt` (before the cursor) and `suffix` (after it) from lines that keep their terminators.

    Whole lines are taken while they fit the budget; the cursor's own line is cut at the budget
    only when it alone is longer. Cost grows with the budget, never with the document.
    """
    current = lines[line]
    ending = 2 if current.endswith("\r\n") else 1 if current.endswith(("\n", "\r")) else 0
    index = max(0, min(index, len(current) - ending))
    # Slice only the budget: a minified file can be one line of megabytes.
    head = current[max(0, index - max_prefix) : index] if max_prefix else ""
    before = [head]
    used = len(head)
    i = line - 1
    while i >= 0 and used + len(lines[i]) <= max_prefix:
        before.append(lines[i])
        used += len(lines[i])
        i -= 1
    before.reverse()

    tail = current[index : index + max_suffix]
    after = [tail]
    used = len(tail)
    j = line + 1
    while j < len(lines) and used + len(lines[j]) <= max_suffix:
        after.append(lines[j])
        used += len(lines[j])
        j += 1
    prefix_cut = i >= 0 or index - len(head) > 0
    suffix_cut = j < len(lines) or index + len(tail) < len(current)
    return FimContext(
        "".join(before),
        "".join(after),
        language_id,
        path,
        prefix_cut=prefix_cut,
        suffix_cut=suffix_cut,
        multiline=multiline,
    )


def is_word_char(c: str) -> bool:
    """A letter, a digit or `_` (one character; False for "")."""
    return c.isalnum() or c == "_"


def word_start(text: str, end: int, longest: int | None = None) -> int:
    """Where the word ending at `end` starts (`end` itself if none), at most `longest` back."""
    start = end
    floor = 0 if longest is None else max(0, end - longest)
    while start > floor and is_word_char(text[start - 1]):
        start -= 1
    return start
