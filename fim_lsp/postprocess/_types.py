"""The pipeline's output record (re-exported by the package); its input is `context.FimContext`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor, replacing `replace` characters after it on its line."""

    text: str
    replace: int = 0
