"""A YAML key the mapping already has: models re-type the keys that follow the cursor, or loop on one."""

from __future__ import annotations

import re

from ._view import View, indent_width, is_blank

_KEY = re.compile(r"(\s*)(- )?([\w.$/-]+|\"[^\"]*\"|'[^']*')\s*:(\s|$)")
_LANGUAGES = frozenset({"yaml"})
_LOOK = 200


def _key(line: str) -> tuple[int, str] | None:
    """The column and name of the key a line sets, or None."""
    found = _KEY.match(line)
    if found is None:
        return None
    column = len(found.group(1)) + (2 if found.group(2) else 0)
    return column, found.group(3)


def _siblings(lines: list[str], column: int) -> set[str]:
    """Keys at `column` in the mapping the first of `lines` belongs to, read until it ends."""
    names: set[str] = set()
    for line in lines:
        if line.startswith(("---", "...")):
            # A new YAML document.
            break
        if is_blank(line) or line.lstrip().startswith("#"):
            continue
        key = _key(line)
        width = indent_width(line)
        if width < column or (key is not None and key[0] == column and line.lstrip()[:2] == "- "):
            # A shallower line, or the next item of a list of mappings, ends the mapping.
            break
        if key is not None and key[0] == column:
            names.add(key[1])
    return names


def cut(lines: list[str], view: View) -> int | None:
    """Index of the first line that sets a key its mapping already has, or None."""
    if view.language not in _LANGUAGES:
        return None
    above = view.lines_before(_LOOK - 1)
    # The mapping's keys seen so far (document above, suggestion), per column.
    seen: dict[int, set[str]] = {}
    # The shallowest key the suggestion has set: mappings deeper than it are its own.
    own_below: int | None = None
    whole = [view.line_prefix + lines[0], *lines[1:]]
    for i, line in enumerate(whole):
        key = _key(line)
        if key is None:
            continue
        column, name = key
        # Deeper mappings opened earlier are closed by this line.
        for deeper in [c for c in seen if c > column]:
            del seen[deeper]
        item = line.lstrip()[:2] == "- "
        if column not in seen:
            theirs = own_below is None or column <= own_below
            # The document's keys around the cursor at this column, until the mapping ends.
            seen[column] = (
                _siblings(above[::-1], column) | _siblings(list(view.after), column)
                if theirs and not item
                else set()
            )
        if item:
            # A new item of a list of mappings starts a new mapping.
            seen[column] = {name}
        elif name in seen[column]:
            return i
        else:
            seen[column].add(name)
        own_below = column if own_below is None else min(own_below, column)
    return None
