"""Post-processing: turn the model's raw middle text into what the editor should show."""

from __future__ import annotations

from dataclasses import dataclass

CLOSERS = set(")]}>\"'`;,: \t")


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


def stream_done(text: str, ctx: PostContext) -> bool:
    """True once the streamed text already holds all that `postprocess` would keep."""
    return bool(ctx.line_suffix.strip()) and "\n" in text


def postprocess(raw: str, ctx: PostContext) -> Suggestion | None:
    """Apply every rule in order; None when nothing is worth showing."""
    text = raw
    rest = ctx.line_suffix
    if rest.strip():
        text = text.split("\n", 1)[0].rstrip("\r")
    if not text.strip():
        return None
    if rest and all(c in CLOSERS for c in rest):
        closing = rest.rstrip()
        if text.rstrip().endswith(closing):
            return Suggestion(text.rstrip(), len(rest))
        return Suggestion(text, 0)
    if rest.strip() and text.endswith(rest):
        text = text[: -len(rest)]
        if not text.strip():
            return None
    return Suggestion(text, 0)
