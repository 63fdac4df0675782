"""The pipeline's input and output records (re-exported by the package)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostContext:
    """What the rules may look at: the text around the cursor, as sent to the model."""

    prefix: str
    suffix: str
    language_id: str = ""

    @property
    def line_prefix(self) -> str:
        """Text on the cursor's line before the cursor."""
        return self.prefix[self.prefix.rfind("\n") + 1 :]

    @property
    def line_suffix(self) -> str:
        """Text on the cursor's line after the cursor, without the line end."""
        end = self.suffix.find("\n")
        line = self.suffix if end < 0 else self.suffix[:end]
        return line.rstrip("\r")


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor, replacing `replace` characters after it on its line."""

    text: str
    replace: int = 0
